"""Configuration: sourced values, the drug and scenario schemas, the loader, errors and the drug library."""
