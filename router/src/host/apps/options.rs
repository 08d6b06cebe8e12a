//! What a session's options (SAM's `SESSION CREATE` line, I2CP's option names) change
//! in the destination the router runs for it.

use crate::client::TunnelShape;
use crate::host::sam::backend::SessionOptions;

/// The most hops a tunnel may have (build records of the ECIES short format).
const MAX_HOPS: usize = 7;
/// The most tunnels a destination keeps per direction: a LeaseSet holds 16 leases.
const MAX_TUNNELS: usize = 16;

/// The tunnels `options` ask for: `inbound.length`, `outbound.length`,
/// `inbound.quantity`, `outbound.quantity` over `default` (the router's client
/// tunnels). A destination's pool builds one shape for both directions, so where the
/// two directions differ the larger wins: more hops or more tunnels never weaken what
/// the application asked for. Values out of range are refused with the reason.
pub(super) fn tunnel_shape(
    options: &SessionOptions,
    default: TunnelShape,
) -> Result<TunnelShape, String> {
    let read = |key: &str, max: usize| -> Result<Option<usize>, String> {
        let Some(value) = options.options.get(key) else {
            return Ok(None);
        };
        match value.trim().parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(format!("{key}={value}: expected a number from 1 to {max}")),
        }
    };
    let larger = |a: Option<usize>, b: Option<usize>, default: usize| match (a, b) {
        (None, None) => default,
        (a, b) => a.max(b).unwrap_or(default),
    };
    let hops = larger(
        read("inbound.length", MAX_HOPS)?,
        read("outbound.length", MAX_HOPS)?,
        default.hops,
    );
    let tunnels = larger(
        read("inbound.quantity", MAX_TUNNELS)?,
        read("outbound.quantity", MAX_TUNNELS)?,
        default.tunnels,
    );
    Ok(TunnelShape { hops, tunnels })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> SessionOptions {
        SessionOptions {
            options: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    const DEFAULT: TunnelShape = TunnelShape {
        hops: 3,
        tunnels: 2,
    };

    #[test]
    fn lengths_and_quantities_the_larger_direction_wins() {
        assert_eq!(tunnel_shape(&options(&[]), DEFAULT), Ok(DEFAULT));
        let asked = options(&[
            ("inbound.length", "1"),
            ("outbound.length", "2"),
            ("inbound.quantity", "4"),
        ]);
        assert_eq!(
            tunnel_shape(&asked, DEFAULT),
            Ok(TunnelShape {
                hops: 2,
                tunnels: 4
            })
        );
        // Unknown options are the router's business elsewhere, not errors here.
        assert_eq!(
            tunnel_shape(&options(&[("i2cp.foo", "x")]), DEFAULT),
            Ok(DEFAULT)
        );
    }

    #[test]
    fn out_of_range_values_are_refused_with_the_reason() {
        for (key, value) in [
            ("inbound.length", "0"),
            ("outbound.length", "8"),
            ("inbound.quantity", "17"),
            ("outbound.quantity", "two"),
        ] {
            let e = tunnel_shape(&options(&[(key, value)]), DEFAULT).expect_err(key);
            assert!(e.contains(key) && e.contains(value), "{e}");
        }
    }
}
