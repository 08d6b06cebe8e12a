//! The overview's bandwidth chart: an SVG drawn with plotters, as the simulator's
//! charts are. Plotters measures text with the font it draws with, so the same
//! DejaVu Sans the analysis crate embeds is registered here (one copy in the repo).

use crate::host::status::BandwidthSample;
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};
use std::sync::OnceLock;

const SIZE: (u32, u32) = (900, 280);
const FONT: &str = "sans-serif";
static DEJAVU_SANS: &[u8] = include_bytes!("../../../../analysis/assets/DejaVuSans.ttf");
const IN_COLOUR: RGBColor = RGBColor(0, 114, 178);
const OUT_COLOUR: RGBColor = RGBColor(213, 94, 0);

fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok =
        *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_ok());
    ok.then_some(())
        .ok_or_else(|| "the embedded font could not be parsed".into())
}

/// KB/s in and out against minutes of uptime; an empty frame before the first sample.
pub fn bandwidth_svg(samples: &[BandwidthSample]) -> Result<String, String> {
    ensure_font()?;
    let mut svg = String::new();
    draw(&mut svg, samples).map_err(|e| format!("cannot draw the chart: {e}"))?;
    Ok(svg)
}

fn draw(svg: &mut String, samples: &[BandwidthSample]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let minutes = |s: &BandwidthSample| s.uptime_secs as f64 / 60.0;
    let kbps = |bps: u64| bps as f64 / 1000.0;
    let (start, end) = match (samples.first(), samples.last()) {
        (Some(first), Some(last)) if last.uptime_secs > first.uptime_secs => {
            (minutes(first), minutes(last))
        }
        (Some(only), _) => (minutes(only) - 1.0, minutes(only)),
        _ => (0.0, 1.0),
    };
    let peak = samples
        .iter()
        .map(|s| kbps(s.in_bps.max(s.out_bps)))
        .fold(0.0, f64::max);
    let top = (peak * 1.15).max(1.0);
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(start.max(0.0)..end, 0.0..top)?;
    chart
        .configure_mesh()
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(205, 205, 205))
        .x_desc("uptime (min)")
        .y_desc("KB/s")
        .axis_desc_style((FONT, 15).into_font())
        .label_style((FONT, 13).into_font())
        .draw()?;
    let series = [
        (
            "in",
            IN_COLOUR,
            samples
                .iter()
                .map(|s| (minutes(s), kbps(s.in_bps)))
                .collect::<Vec<_>>(),
        ),
        (
            "out",
            OUT_COLOUR,
            samples
                .iter()
                .map(|s| (minutes(s), kbps(s.out_bps)))
                .collect(),
        ),
    ];
    for (name, colour, points) in series {
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 13).into_font())
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(205, 205, 205))
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_with_and_without_samples() {
        let empty = bandwidth_svg(&[]).expect("empty chart");
        assert!(
            empty.starts_with("<svg"),
            "{}",
            &empty[..40.min(empty.len())]
        );
        let samples: Vec<_> = (1..=30)
            .map(|i| BandwidthSample {
                uptime_secs: i * 10,
                in_bps: i * 1000,
                out_bps: 500,
            })
            .collect();
        let svg = bandwidth_svg(&samples).expect("chart");
        assert!(
            svg.contains("KB/s") && svg.contains("polyline"),
            "no axis or lines"
        );
    }
}
