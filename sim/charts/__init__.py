"""Charts: pure functions from data frames to ``alt.Chart`` (Altair is used here only), the number
formats a reader sees, and the offline HTML report (:mod:`sim.charts.report`)."""

from sim.charts import export
from sim.charts.calendar import dosing_calendar, dosing_gantt
from sim.charts.capacity import (
    cost_breakdown_chart,
    cost_breakdown_frame,
    daily_peak_chart,
    daily_peak_frame,
    hospital_use_chart,
    hospital_use_frame,
    hour_of_week_frame,
    occupancy_heatmap,
    toxicity_grade_chart,
    toxicity_grade_frame,
)
from sim.charts.compare import comparison_csv, comparison_table, forest_frame, forest_plot
from sim.charts.format import (
    CAPACITY_KPIS,
    COMPARE_KPIS,
    HOSPITAL_USE,
    TOCI_KPIS,
    stamped,
    summary_table,
)
from sim.charts.sizing import capacity_curve_chart
from sim.charts.stock import (
    STOCK_CURVE_KPIS,
    stock_curve_chart,
    stock_over_time_chart,
    stock_over_time_frame,
    stock_table,
    stockout_weeks,
    toci_weekly_chart,
    toci_weekly_frame,
)
from sim.charts.style import (
    DAY_NAMES,
    GRADE_COLORS,
    HOURS_PER_WEEK,
    PLACE_COLORS,
    PLACE_LABELS,
    RESOURCE_LABELS,
)
from sim.metrics.formats import (
    KPI_INFO,
    PP,
    PP_UNIT,
    KpiInfo,
    diff_scale,
    diff_unit,
    format_ci,
    format_diff,
    format_diff_ci,
    format_value,
    in_shown_unit,
    kpi_info,
    plain,
)

__all__ = ['HOURS_PER_WEEK', 'DAY_NAMES', 'RESOURCE_LABELS', 'PLACE_LABELS', 'PLACE_COLORS', 'GRADE_COLORS', 'KpiInfo', 'KPI_INFO', 'CAPACITY_KPIS', 'TOCI_KPIS', 'COMPARE_KPIS', 'HOSPITAL_USE', 'kpi_info', 'format_value', 'format_ci', 'format_diff', 'format_diff_ci', 'diff_unit', 'diff_scale', 'in_shown_unit', 'plain', 'PP', 'PP_UNIT', 'summary_table', 'comparison_table', 'comparison_csv', 'stamped', 'hour_of_week_frame', 'occupancy_heatmap', 'daily_peak_frame', 'daily_peak_chart', 'hospital_use_frame', 'hospital_use_chart', 'cost_breakdown_frame', 'cost_breakdown_chart', 'toxicity_grade_frame', 'toxicity_grade_chart', 'toci_weekly_frame', 'toci_weekly_chart', 'stock_over_time_frame', 'stock_over_time_chart', 'STOCK_CURVE_KPIS', 'stock_curve_chart', 'stock_table', 'stockout_weeks', 'forest_frame', 'forest_plot', 'capacity_curve_chart', 'dosing_calendar', 'dosing_gantt', 'export']
