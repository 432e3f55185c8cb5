//! Line charts of training curves, rendered to an in-memory RGB8 buffer.
//!
//! The buffer (rather than a file) is the output so that the caller can encode
//! the PNG with the `image` crate it already uses; plotters' own encoder would
//! pull in a second copy of the image stack.

use std::ops::Range;
use std::sync::OnceLock;

use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

/// One method's curve: (x, y) points in order.
pub struct Series {
    /// The legend's entry.
    pub label: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// One chart: title, axis captions, its series; `log_y` for a logarithmic y axis.
pub struct Chart {
    /// Above the panel.
    pub title: String,
    /// Under the x axis.
    pub x_label: String,
    /// Beside the y axis.
    pub y_label: String,
    /// The curves.
    pub series: Vec<Series>,
    /// Logarithmic y axis.
    pub log_y: bool,
}

const PANEL_W: u32 = 640;
const PANEL_H: u32 = 540;

/// The one family name every text style uses. With the `ab_glyph` feature plotters
/// has no system fonts at all, so any other family would fail at draw time.
const FONT: &str = "sans-serif";
const LEGEND_FONT_PX: u32 = 14;

/// Tableau 10 and four dark hues: colours that stay distinguishable on white,
/// unlike the first entries of `Palette99`, several of which are pale or close to
/// each other (a reproduce run draws eleven series). More than fourteen series
/// reuse colours; the legend order still tells them apart.
const COLOURS: [RGBColor; 14] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
    RGBColor(0, 0, 128),
    RGBColor(128, 128, 0),
    RGBColor(128, 0, 0),
];

/// Above this many points per series, markers would merge into a thick smear
/// and hide the line, so only the line is drawn.
const MAX_MARKED_POINTS: usize = 60;

/// Draws `charts` side by side (one row, each panel 640×540 px) into one RGB8 buffer;
/// returns (width, height, pixels row-major RGB).
pub fn render(charts: &[Chart]) -> Result<(u32, u32, Vec<u8>), String> {
    if charts.is_empty() {
        return Err("no charts to render".to_string());
    }
    register_font()?;
    let columns = u32::try_from(charts.len()).map_err(|_| "too many charts".to_string())?;
    let width = PANEL_W
        .checked_mul(columns)
        .ok_or_else(|| "too many charts".to_string())?;
    let height = PANEL_H;
    let mut pixels = vec![255u8; width as usize * height as usize * 3];
    {
        // The backend borrows `pixels` mutably; this scope ends that borrow so the
        // buffer can be returned.
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        for (panel, chart) in root.split_evenly((1, charts.len())).iter().zip(charts) {
            let x_range = linear_range(usable_points(chart).map(|(x, _)| x), 0.03);
            if chart.log_y {
                let y_range = log_range(usable_points(chart).map(|(_, y)| y));
                let (bold, light) = log_ticks(&y_range);
                let y_spec = y_range
                    .log_scale()
                    .with_key_points(bold)
                    .with_light_points(light);
                draw_panel(panel, chart, x_range, y_spec, &fmt_general)?;
            } else {
                let y_range = linear_range(usable_points(chart).map(|(_, y)| y), 0.05);
                let y_fmt = linear_formatter(&y_range);
                draw_panel(panel, chart, x_range, y_range, &y_fmt)?;
            }
        }
        // Without `present` the bitmap backend may not have flushed into `pixels`,
        // and errors would only surface (and be lost) on drop.
        root.present().map_err(|e| e.to_string())?;
    }
    Ok((width, height, pixels))
}

/// Registers DejaVu Sans once per process. A `OnceLock` rather than a plain
/// `Once`, so that a failure is remembered and reported on every call instead of
/// turning into an obscure "font unavailable" error at the first text.
fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "the embedded DejaVu Sans font could not be parsed".to_string())
        })
        .clone()
}

/// The points of `series` that can be placed on `chart`'s axes: finite, and
/// positive in y when the y axis is logarithmic.
fn usable<'a>(chart: &Chart, series: &'a Series) -> impl Iterator<Item = (f64, f64)> + 'a {
    let log_y = chart.log_y;
    series
        .points
        .iter()
        .copied()
        .filter(move |&(x, y)| x.is_finite() && y.is_finite() && (!log_y || y > 0.0))
}

/// Every usable point of every series of `chart`, for the axis ranges.
fn usable_points(chart: &Chart) -> impl Iterator<Item = (f64, f64)> + '_ {
    chart.series.iter().flat_map(move |s| usable(chart, s))
}

/// Range of `values` padded by `margin` of its span on each side, so that the
/// extreme points and their markers do not sit on the frame. A degenerate range
/// (one distinct value, or none) is widened because plotters cannot map onto a
/// zero-width axis.
fn linear_range(values: impl Iterator<Item = f64>, margin: f64) -> Range<f64> {
    let Some((lo, hi)) = min_max(values) else {
        return 0.0..1.0;
    };
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(hi.abs()) {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.05 };
        return (lo - pad)..(hi + pad);
    }
    (lo - span * margin)..(hi + span * margin)
}

/// Like [`linear_range`] but for positive values on a log axis, where the margin
/// must be a factor: an additive one could reach zero or below.
fn log_range(values: impl Iterator<Item = f64>) -> Range<f64> {
    let Some((lo, hi)) = min_max(values) else {
        return 1.0..10.0;
    };
    if hi / lo < 1.0 + 1e-9 {
        return (lo / 2.0)..(hi * 2.0);
    }
    let factor = (hi / lo).powf(0.05);
    (lo / factor)..(hi * factor)
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// Tick positions for a log axis: (labelled ticks, grid-only ticks).
///
/// plotters' own log key points are only the powers of ten inside the range (plus
/// unlabelled in-between steps), so a loss that moves within one decade, say
/// 0.02 to 0.08, would get no y labels at all. Instead this takes the sparsest of
/// 1×, 1-2-5×, 1…9× powers of ten that yields at least three ticks, and falls back
/// to linear ticks for ranges narrower than that.
fn log_ticks(range: &Range<f64>) -> (Vec<f64>, Vec<f64>) {
    const MANTISSAS: [&[f64]; 3] = [
        &[1.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ];
    let first = range.start.log10().floor() as i32;
    let last = range.end.log10().ceil() as i32;
    let ticks = |mantissas: &[f64]| -> Vec<f64> {
        (first..=last)
            .flat_map(|e| mantissas.iter().map(move |m| m * 10f64.powi(e)))
            .filter(|v| range.contains(v))
            .collect()
    };
    let light = ticks(MANTISSAS[2]);
    for mantissas in MANTISSAS {
        let bold = ticks(mantissas);
        if bold.len() >= 3 {
            // Many decades would crowd the labels; keep about ten of them.
            let stride = bold.len().div_ceil(10);
            return (bold.into_iter().step_by(stride).collect(), light);
        }
    }
    let linear: RangedCoordf64 = range.clone().into();
    (linear.key_points(5), Vec::new())
}

/// Label formatter for a linear axis: as many decimals as the tick spacing needs
/// and no more. plotters' default always prints at least one decimal ("20000.0")
/// and can print floating-point noise as a tiny non-zero value instead of 0.
fn linear_formatter(range: &Range<f64>) -> impl Fn(&f64) -> String {
    let step = (range.end - range.start) / 10.0;
    let magnitude = range.start.abs().max(range.end.abs());
    let scientific = !(1e-3..1e6).contains(&magnitude);
    let decimals = (1 - step.log10().floor() as i32).max(0) as usize;
    move |&v| {
        if v.abs() < step * 1e-6 {
            "0".to_string()
        } else if scientific {
            fmt_scientific(v)
        } else {
            trim_decimals(format!("{v:.decimals$}"))
        }
    }
}

/// Label formatter for log-axis ticks, which span orders of magnitude, so plain
/// decimals only in a readable band and scientific notation outside it. (plotters
/// formats log-axis values with `Debug`, e.g. "0.020000000000000004".)
fn fmt_general(&v: &f64) -> String {
    if (1e-3..1e5).contains(&v.abs()) {
        trim_decimals(format!("{v:.6}"))
    } else {
        fmt_scientific(v)
    }
}

fn fmt_scientific(v: f64) -> String {
    let s = format!("{v:.2e}");
    match s.split_once('e') {
        Some((mantissa, exponent)) => {
            format!("{}e{exponent}", trim_decimals(mantissa.to_string()))
        }
        None => s,
    }
}

fn trim_decimals(s: String) -> String {
    let trimmed = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        &s
    };
    if trimmed == "-0" {
        "0".to_string()
    } else {
        trimmed.to_string()
    }
}

/// Draws one chart into its panel. Generic over the y coordinate so that linear
/// and log axes share the code; their plotters types differ.
fn draw_panel<Y>(
    panel: &DrawingArea<BitMapBackend<'_>, Shift>,
    chart: &Chart,
    x_range: Range<f64>,
    y_spec: Y,
    y_fmt: &dyn Fn(&f64) -> String,
) -> Result<(), String>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let x_fmt = linear_formatter(&x_range);
    let mut ctx = ChartBuilder::on(panel)
        .caption(&chart.title, (FONT, 22))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(x_range, y_spec)
        .map_err(|e| e.to_string())?;
    ctx.configure_mesh()
        .x_desc(chart.x_label.as_str())
        .y_desc(chart.y_label.as_str())
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 15))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(y_fmt)
        .draw()
        .map_err(|e| e.to_string())?;

    let mut paths = Vec::with_capacity(chart.series.len());
    for (i, series) in chart.series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let points: Vec<(f64, f64)> = usable(chart, series).collect();
        let anno = ctx
            .draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        if !series.label.is_empty() {
            anno.label(series.label.as_str()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        }
        // A single point draws no line at all, so it always gets a marker.
        if points.len() <= MAX_MARKED_POINTS {
            ctx.draw_series(points.iter().map(|&p| Circle::new(p, 3, colour.filled())))
                .map_err(|e| e.to_string())?;
        }
        paths.push(points.iter().map(|p| ctx.backend_coord(p)).collect());
    }

    let labels: Vec<&str> = chart
        .series
        .iter()
        .map(|s| s.label.as_str())
        .filter(|l| !l.is_empty())
        .collect();
    if labels.is_empty() {
        // plotters would still draw an empty legend box.
        return Ok(());
    }
    let legend_font = (FONT, LEGEND_FONT_PX).into_font();
    let mut text_w = 0;
    for label in &labels {
        let (w, _) = panel
            .estimate_text_size(label, &legend_font.clone().into())
            .map_err(|e| e.to_string())?;
        text_w = text_w.max(w as i32);
    }
    // Mirrors plotters' legend layout: 30 px sample area, 10 px margins, lines
    // 1.25 font heights apart.
    let legend_size = (
        text_w + 30 + 20,
        (labels.len() as f64 * 1.25 * f64::from(LEGEND_FONT_PX)) as i32 + 20,
    );
    let position = legend_corner(&ctx.plotting_area().get_pixel_range(), legend_size, &paths);
    ctx.configure_series_labels()
        .position(position)
        .label_font(legend_font)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()
        .map_err(|e| e.to_string())
}

/// Picks the corner where a legend box of `size` hides the least of `paths`
/// (polylines in backend pixels), so a fixed corner does not sit on top of the
/// curves; ties go to upper right, the conventional place. Counts samples along
/// each segment, not just vertices, because sparse curves cross corners between
/// their points.
fn legend_corner(
    plot: &(Range<i32>, Range<i32>),
    size: (i32, i32),
    paths: &[Vec<(i32, i32)>],
) -> SeriesLabelPosition {
    // plotters insets the legend 5 px from the plotting area's edges; the box is
    // grown by `CLEARANCE` so a curve passing just outside it still counts, as it
    // would look cramped.
    const CLEARANCE: i32 = 8;
    let (w, h) = (size.0 + CLEARANCE, size.1 + CLEARANCE);
    let (xs, ys) = plot;
    let left = xs.start..xs.start + 5 + w;
    let right = xs.end - 5 - w..xs.end;
    let top = ys.start..ys.start + 5 + h;
    let bottom = ys.end - 5 - h..ys.end;
    let samples: Vec<(i32, i32)> = paths
        .iter()
        .flat_map(|path| {
            let segments = path.windows(2).flat_map(|w| {
                let ((x0, y0), (x1, y1)) = (w[0], w[1]);
                let steps = ((x1 - x0).abs().max((y1 - y0).abs()) / 4).max(1);
                (0..steps).map(move |k| (x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps))
            });
            segments.chain(path.last().copied())
        })
        .collect();
    let hidden = |xr: &Range<i32>, yr: &Range<i32>| {
        samples
            .iter()
            .filter(|(x, y)| xr.contains(x) && yr.contains(y))
            .count()
    };
    let mut best = (SeriesLabelPosition::UpperRight, hidden(&right, &top));
    for (position, xr, yr) in [
        (SeriesLabelPosition::UpperLeft, &left, &top),
        (SeriesLabelPosition::LowerRight, &right, &bottom),
        (SeriesLabelPosition::LowerLeft, &left, &bottom),
    ] {
        let n = hidden(xr, yr);
        if n < best.1 {
            best = (position, n);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(label: &str, points: &[(f64, f64)]) -> Series {
        Series {
            label: label.to_string(),
            points: points.to_vec(),
        }
    }

    fn chart(series: Vec<Series>, log_y: bool) -> Chart {
        Chart {
            title: "t".to_string(),
            x_label: "x".to_string(),
            y_label: "y".to_string(),
            series,
            log_y,
        }
    }

    #[test]
    fn no_charts_is_an_error() {
        assert!(render(&[]).is_err());
    }

    #[test]
    fn degenerate_data_renders() {
        let charts = [
            chart(vec![], false),
            chart(vec![], true),
            chart(vec![series("one", &[(3.0, 2.0)])], false),
            chart(
                vec![series(
                    "flat, NaN, inf",
                    &[
                        (0.0, 5.0),
                        (1.0, f64::NAN),
                        (f64::INFINITY, 1.0),
                        (2.0, 5.0),
                    ],
                )],
                false,
            ),
            chart(
                vec![
                    series("non-positive", &[(0.0, 0.0), (1.0, -1.0)]),
                    series("equal", &[(0.0, 0.3), (1.0, 0.3)]),
                    series("", &[(0.0, 0.3), (1.0, 0.4)]),
                ],
                true,
            ),
        ];
        let (w, h, pixels) = render(&charts).unwrap();
        assert_eq!((w, h), (5 * PANEL_W, PANEL_H));
        assert_eq!(pixels.len(), (w * h * 3) as usize);
        assert!(pixels.iter().any(|&p| p != 255), "nothing was drawn");
    }

    #[test]
    fn log_axis_within_one_decade_gets_labels() {
        for range in [0.02..0.08, 0.049..0.051, 1e-3..1e9] {
            let (bold, _) = log_ticks(&range);
            assert!(bold.len() >= 2, "{range:?}: {bold:?}");
            assert!(bold.len() <= 12, "{range:?}: {bold:?}");
            // plotters' linear key points may overshoot the end by an ulp.
            let slack = (range.end - range.start) * 1e-9;
            let inside = |v: &f64| range.start - slack <= *v && *v <= range.end + slack;
            assert!(bold.iter().all(inside), "{range:?}: {bold:?}");
        }
    }

    #[test]
    fn ranges_are_never_empty() {
        assert_eq!(linear_range(std::iter::empty(), 0.05), 0.0..1.0);
        let r = linear_range([0.0, 0.0].into_iter(), 0.05);
        assert!(r.start < r.end);
        let r = linear_range([7.0].into_iter(), 0.05);
        assert!(r.start < 7.0 && 7.0 < r.end);
        let r = log_range([0.3].into_iter());
        assert!(0.0 < r.start && r.start < 0.3 && 0.3 < r.end);
    }

    #[test]
    fn labels_are_compact() {
        let f = linear_formatter(&(0.0..10000.0));
        assert_eq!(f(&2000.0), "2000");
        assert_eq!(f(&1e-13), "0");
        let f = linear_formatter(&(0.0..1.0));
        assert_eq!(f(&0.30000000000000004), "0.3");
        assert_eq!(fmt_general(&0.020000000000000004), "0.02");
        assert_eq!(fmt_general(&2.5e-7), "2.5e-7");
        assert_eq!(fmt_general(&1e9), "1e9");
    }
}
