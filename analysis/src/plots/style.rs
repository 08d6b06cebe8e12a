//! Shared chart styling: size, embedded font, text styles, colours, line styles.

use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

/// Pixel size of every chart (PNG and SVG).
pub const SIZE: (u32, u32) = (1024, 640);

/// Font family name all chart text uses. The PNG renderer resolves it to the embedded
/// DejaVu Sans; SVG viewers resolve it to their own sans-serif font.
pub const FONT_FAMILY: &str = "sans-serif";

/// DejaVu Sans, see `assets/DEJAVU-LICENSE`.
static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers the embedded font with plotters (once per process). Must run before drawing text.
pub fn ensure_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        // One font file serves every style: plotters falls back to Normal for the others.
        register_font(FONT_FAMILY, FontStyle::Normal, DEJAVU_SANS).is_ok()
    });
    anyhow::ensure!(ok, "the embedded DejaVu Sans font could not be parsed");
    Ok(())
}

pub fn title() -> TextStyle<'static> {
    (FONT_FAMILY, 26).into_font().color(&BLACK)
}

pub fn axis_desc() -> TextStyle<'static> {
    (FONT_FAMILY, 19).into_font().color(&BLACK)
}

pub fn tick_label() -> TextStyle<'static> {
    (FONT_FAMILY, 16).into_font().color(&BLACK)
}

pub fn legend() -> TextStyle<'static> {
    (FONT_FAMILY, 16).into_font().color(&BLACK)
}

pub fn note() -> TextStyle<'static> {
    (FONT_FAMILY, 22).into_font().color(&RGBColor(90, 90, 90))
}

/// Line width of data series, in pixels.
pub const LINE_WIDTH: u32 = 2;

/// Okabe-Ito colour-blind-safe palette (without yellow, which is hard to see on white),
/// extended with darker tones for more than seven series.
const PALETTE: [RGBColor; 10] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(230, 159, 0),   // orange
    RGBColor(0, 0, 0),       // black
    RGBColor(120, 80, 20),   // brown
    RGBColor(100, 100, 100), // grey
    RGBColor(60, 30, 120),   // indigo
];

/// Colour of the `i`-th series (run or role), cycling through the palette.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Colour of reference lines (e.g. online routers).
pub const REFERENCE: RGBColor = RGBColor(110, 110, 110);

/// Fill of the warmup region.
pub fn warmup_fill() -> ShapeStyle {
    RGBColor(150, 150, 150).mix(0.18).filled()
}

/// Grid lines.
pub const GRID_LIGHT: RGBColor = RGBColor(238, 238, 238);
pub const GRID_BOLD: RGBColor = RGBColor(205, 205, 205);

/// How a series' line is drawn; distinguishes metrics, roles or tiers when colour marks the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dash {
    #[default]
    Solid,
    Dashed,
    Dotted,
    /// Long dashes: tells a fourth series apart from [`Dashed`](Self::Dashed).
    LongDash,
}

impl Dash {
    /// (dash length, gap) in pixels, `None` for solid.
    pub fn pattern(self) -> Option<(i32, i32)> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some((10, 6)),
            Dash::Dotted => Some((3, 4)),
            Dash::LongDash => Some((24, 6)),
        }
    }

    /// (dash length, gap) of the 24 px legend sample, `None` for solid: shortened so a few
    /// dashes fit, and chosen so every style looks different there too.
    pub fn legend_pattern(self) -> Option<(i32, i32)> {
        match self {
            Dash::Solid => None,
            Dash::Dashed => Some((6, 4)),
            Dash::Dotted => Some((3, 4)),
            Dash::LongDash => Some((14, 4)),
        }
    }

    /// The `i`-th style, cycling.
    pub fn nth(i: usize) -> Dash {
        [Dash::Solid, Dash::Dashed, Dash::Dotted, Dash::LongDash][i % 4]
    }
}
