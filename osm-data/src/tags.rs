//! Pure tag logic: OSM tags in, routing attributes out. No files, tested by table.
//!
//! * [`way_rule`]: is a way drivable by an ambulance, in which directions, at which speed;
//! * [`parse_maxspeed`]: `maxspeed` values (numbers, mph, country zone codes) to km/h;
//! * [`node_blocks`]: does a node barrier stop an ambulance;
//! * [`restriction_kind`]: turn-restriction relations.

use serde::{Deserialize, Serialize};

use crate::profile::Profile;

/// Read access to a set of OSM tags.
pub trait TagLookup {
    /// The value of `key`, if tagged.
    fn tag(&self, key: &str) -> Option<&str>;
}

impl TagLookup for osmpbfreader::Tags {
    fn tag(&self, key: &str) -> Option<&str> {
        self.get(key).map(|v| v.as_str())
    }
}

impl TagLookup for [(&str, &str)] {
    fn tag(&self, key: &str) -> Option<&str> {
        self.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }
}

/// Road classes an ambulance may drive on (from the `highway` tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
#[allow(missing_docs)]
pub enum RoadClass {
    Motorway,
    MotorwayLink,
    Trunk,
    TrunkLink,
    Primary,
    PrimaryLink,
    Secondary,
    SecondaryLink,
    Tertiary,
    TertiaryLink,
    Unclassified,
    Residential,
    LivingStreet,
    Service,
    Road,
    Pedestrian,
    Busway,
}

impl RoadClass {
    /// Every class, in declaration order.
    pub const ALL: [RoadClass; 17] = [
        RoadClass::Motorway,
        RoadClass::MotorwayLink,
        RoadClass::Trunk,
        RoadClass::TrunkLink,
        RoadClass::Primary,
        RoadClass::PrimaryLink,
        RoadClass::Secondary,
        RoadClass::SecondaryLink,
        RoadClass::Tertiary,
        RoadClass::TertiaryLink,
        RoadClass::Unclassified,
        RoadClass::Residential,
        RoadClass::LivingStreet,
        RoadClass::Service,
        RoadClass::Road,
        RoadClass::Pedestrian,
        RoadClass::Busway,
    ];

    /// The `highway=*` value of this class.
    pub fn as_str(self) -> &'static str {
        match self {
            RoadClass::Motorway => "motorway",
            RoadClass::MotorwayLink => "motorway_link",
            RoadClass::Trunk => "trunk",
            RoadClass::TrunkLink => "trunk_link",
            RoadClass::Primary => "primary",
            RoadClass::PrimaryLink => "primary_link",
            RoadClass::Secondary => "secondary",
            RoadClass::SecondaryLink => "secondary_link",
            RoadClass::Tertiary => "tertiary",
            RoadClass::TertiaryLink => "tertiary_link",
            RoadClass::Unclassified => "unclassified",
            RoadClass::Residential => "residential",
            RoadClass::LivingStreet => "living_street",
            RoadClass::Service => "service",
            RoadClass::Road => "road",
            RoadClass::Pedestrian => "pedestrian",
            RoadClass::Busway => "busway",
        }
    }

    /// The class of a `highway=*` value, if an ambulance may ever use it.
    pub fn from_highway(value: &str) -> Option<RoadClass> {
        RoadClass::ALL.into_iter().find(|c| c.as_str() == value)
    }

    /// The class stored as a byte in the graph file.
    pub fn from_u8(v: u8) -> Option<RoadClass> {
        RoadClass::ALL.get(usize::from(v)).copied()
    }

    /// Whether the class is reserved (pedestrian zones, busways): drivable only when tags allow it.
    fn is_reserved(self) -> bool {
        matches!(self, RoadClass::Pedestrian | RoadClass::Busway)
    }
}

/// What the profile makes of a drivable way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WayRule {
    /// Road class.
    pub class: RoadClass,
    /// Travel speed along the way's direction (km/h), `None` if not allowed that way.
    pub forward_kmh: Option<f64>,
    /// Travel speed against the way's direction (km/h), `None` if not allowed that way.
    pub backward_kmh: Option<f64>,
}

fn is_yes(v: Option<&str>) -> bool {
    matches!(v, Some("yes" | "designated" | "permissive" | "official"))
}

fn is_denied(v: &str) -> bool {
    matches!(
        v,
        "no" | "private"
            | "agricultural"
            | "forestry"
            | "agricultural;forestry"
            | "military"
            | "restricted"
    )
}

/// Applies the access hierarchy for an emergency vehicle: `emergency` beats
/// `motorcar` beats `motor_vehicle` beats `vehicle` beats `access`.
fn access_allowed<T: TagLookup + ?Sized>(tags: &T, profile: &Profile, reserved: bool) -> bool {
    if let Some(v) = tags.tag("emergency") {
        if v == "no" {
            return false;
        }
        if is_yes(Some(v)) || v == "destination" {
            return profile.access.emergency_ways;
        }
    }
    let psv_ok = profile.access.psv_lanes
        && (is_yes(tags.tag("psv"))
            || is_yes(tags.tag("bus"))
            || is_yes(tags.tag("emergency_vehicle")));
    let specific = ["motorcar", "motor_vehicle", "vehicle", "access"]
        .iter()
        .find_map(|k| tags.tag(k));
    match specific {
        Some("emergency") => profile.access.emergency_ways,
        Some(v) if is_denied(v) => psv_ok,
        Some("psv" | "bus") => profile.access.psv_lanes,
        // A reserved class (pedestrian zone, busway) needs an explicit allowance.
        Some(v) if reserved => is_yes(Some(v)) || psv_ok,
        _ if reserved => {
            psv_ok || tags.tag("highway") == Some("busway") && profile.access.psv_lanes
        }
        _ => true,
    }
}

/// Decides whether an ambulance may drive a way with these tags, in which directions and how fast.
pub fn way_rule<T: TagLookup + ?Sized>(tags: &T, profile: &Profile) -> Option<WayRule> {
    let class = RoadClass::from_highway(tags.tag("highway")?)?;
    if tags.tag("area") == Some("yes")
        || matches!(tags.tag("impassable"), Some("yes"))
        || matches!(tags.tag("status"), Some("impassable"))
    {
        return None;
    }
    if !access_allowed(tags, profile, class.is_reserved()) {
        return None;
    }
    // Direction.
    let implied_oneway = matches!(tags.tag("junction"), Some("roundabout" | "circular"))
        || matches!(class, RoadClass::Motorway | RoadClass::MotorwayLink);
    let oneway_exempt = tags.tag("oneway:emergency") == Some("no")
        || (profile.access.psv_lanes
            && (tags.tag("oneway:psv") == Some("no") || tags.tag("oneway:bus") == Some("no")));
    let (mut fwd, mut bwd) = match tags.tag("oneway") {
        Some("yes" | "1" | "true") => (true, false),
        Some("-1" | "reverse") => (false, true),
        // Direction changes with the time of day: unknown at routing time, so not used.
        Some("reversible" | "alternating") => return None,
        Some("no" | "false" | "0") => (true, true),
        _ if implied_oneway => (true, false),
        _ => (true, true),
    };
    if oneway_exempt {
        fwd = true;
        bwd = true;
    }
    let legal = tags.tag("maxspeed").and_then(parse_maxspeed);
    let fwd_legal = tags
        .tag("maxspeed:forward")
        .and_then(parse_maxspeed)
        .or(legal);
    let bwd_legal = tags
        .tag("maxspeed:backward")
        .and_then(parse_maxspeed)
        .or(legal);
    let mut rule = WayRule {
        class,
        forward_kmh: fwd.then(|| profile.travel_speed_kmh(class, fwd_legal)),
        backward_kmh: bwd.then(|| profile.travel_speed_kmh(class, bwd_legal)),
    };
    if profile.oneway.contraflow && profile.oneway.contraflow_classes.contains(&class) {
        let penalised = |kmh: f64| kmh / profile.oneway.contraflow_penalty;
        match (rule.forward_kmh, rule.backward_kmh) {
            (Some(f), None) => {
                rule.backward_kmh =
                    Some(penalised(profile.travel_speed_kmh(class, bwd_legal).min(f)))
            }
            (None, Some(b)) => {
                rule.forward_kmh =
                    Some(penalised(profile.travel_speed_kmh(class, fwd_legal).min(b)))
            }
            _ => {}
        }
    }
    Some(rule)
}

/// Parses a `maxspeed` value into km/h. `None` for values that carry no number
/// (`signals`, `variable`, unknown zone codes), so the class default applies.
pub fn parse_maxspeed(value: &str) -> Option<f64> {
    let value = value.trim();
    // "50;30" or "50 | 30": several values; take the first.
    let value = value.split([';', '|']).next()?.trim();
    if let Some(num) = value.strip_suffix("mph") {
        return num
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| *v > 0.0)
            .map(|v| v * 1.609_344);
    }
    if let Some(num) = value
        .strip_suffix("km/h")
        .or_else(|| value.strip_suffix("kmh"))
    {
        return num.trim().parse::<f64>().ok().filter(|v| *v > 0.0);
    }
    if let Ok(v) = value.parse::<f64>() {
        return (v > 0.0).then_some(v);
    }
    match value {
        "walk" => return Some(7.0),
        "none" => return Some(130.0),
        _ => {}
    }
    let (country, zone) = value.split_once(':')?;
    // Zone codes with a number: DE:zone30, DE:zone:30, RU:zone:20.
    let zone_digits = zone.trim_start_matches("zone").trim_start_matches(':');
    if zone.starts_with("zone") {
        return zone_digits.parse::<f64>().ok().filter(|v| *v > 0.0);
    }
    zone_speed(country, zone)
}

/// Legal speeds of the country zone codes found in OSM data (km/h).
fn zone_speed(country: &str, zone: &str) -> Option<f64> {
    let v = match (country, zone) {
        ("RU" | "BY" | "KZ" | "UA", "urban") => 60.0,
        ("RU" | "BY" | "KZ" | "UA", "rural") => 90.0,
        ("RU" | "BY" | "KZ", "living_street") => 20.0,
        ("UA", "living_street") => 20.0,
        ("RU", "motorway") => 110.0,
        ("BY" | "UA", "motorway") => 120.0,
        ("KZ", "motorway") => 110.0,
        (
            "DE" | "AT" | "CH" | "LI" | "FR" | "IT" | "FI" | "MC" | "NL" | "BE" | "PL" | "CZ"
            | "DK" | "SE" | "NO" | "ES",
            "urban",
        ) => 50.0,
        ("DE" | "AT" | "PL" | "CZ", "rural") => 100.0,
        ("CH" | "LI" | "FI" | "FR" | "NL" | "BE" | "DK" | "SE" | "NO", "rural") => 80.0,
        ("IT" | "ES", "rural") => 90.0,
        ("DE", "motorway") => 130.0, // advisory speed where there is no limit
        ("AT" | "IT" | "FR" | "CZ" | "DK", "motorway") => 130.0,
        ("CH" | "LI" | "FI" | "ES", "motorway") => 120.0,
        ("DE" | "AT" | "CH" | "LI" | "FR" | "IT" | "NL" | "BE", "living_street") => 7.0,
        ("DE" | "AT" | "CH" | "FR", "bicycle_road") => 30.0,
        ("DE", "trunk") => 100.0,
        ("US", "urban") => 40.0,
        _ => return None,
    };
    Some(v)
}

/// Whether a node with these tags stops an ambulance.
pub fn node_blocks<T: TagLookup + ?Sized>(tags: &T, profile: &Profile) -> bool {
    let Some(barrier) = tags.tag("barrier") else {
        return false;
    };
    if !profile
        .access
        .blocking_barriers
        .iter()
        .any(|b| b == barrier)
    {
        return false;
    }
    let emergency_ok = is_yes(tags.tag("emergency"))
        || is_yes(tags.tag("access"))
        || is_yes(tags.tag("motor_vehicle"))
        || is_yes(tags.tag("motorcar"))
        || matches!(
            tags.tag("bollard"),
            Some("removable" | "rising" | "foldable")
        );
    !emergency_ok
}

/// The meaning of a turn-restriction relation for an ambulance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestrictionKind {
    /// `no_*`: the turn from the `from` way to the `to` way is forbidden.
    No,
    /// `no_u_turn` with `from` = `to`: turning back onto the same way is forbidden.
    NoUTurn,
    /// `only_*`: from the `from` way, only the turn onto the `to` way is allowed.
    Only,
}

/// Reads a relation's tags: `Some(kind)` if it is a turn restriction that applies to an ambulance.
pub fn restriction_kind<T: TagLookup + ?Sized>(
    tags: &T,
    profile: &Profile,
) -> Option<RestrictionKind> {
    if tags.tag("type") != Some("restriction") {
        return None;
    }
    if let Some(except) = tags.tag("except") {
        let exempt = except.split(';').map(str::trim).any(|e| {
            e == "emergency"
                || e == "motorcar"
                || (profile.access.psv_lanes && (e == "psv" || e == "bus"))
        });
        if exempt {
            return None;
        }
    }
    let value = tags
        .tag("restriction")
        .or_else(|| tags.tag("restriction:motorcar"))?;
    if value == "no_u_turn" {
        Some(RestrictionKind::NoUTurn)
    } else if value.starts_with("no_") {
        Some(RestrictionKind::No)
    } else if value.starts_with("only_") {
        Some(RestrictionKind::Only)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Tags<'a> = &'a [(&'a str, &'a str)];

    fn rule(tags: &[(&str, &str)]) -> Option<WayRule> {
        way_rule(tags, &Profile::default())
    }

    fn dirs(tags: &[(&str, &str)]) -> Option<(bool, bool)> {
        rule(tags).map(|r| (r.forward_kmh.is_some(), r.backward_kmh.is_some()))
    }

    #[test]
    fn maxspeed_table() {
        let cases: &[(&str, Option<f64>)] = &[
            ("50", Some(50.0)),
            ("30 mph", Some(30.0 * 1.609_344)),
            ("30mph", Some(30.0 * 1.609_344)),
            ("60 km/h", Some(60.0)),
            ("RU:urban", Some(60.0)),
            ("RU:rural", Some(90.0)),
            ("RU:living_street", Some(20.0)),
            ("RU:motorway", Some(110.0)),
            ("DE:urban", Some(50.0)),
            ("DE:rural", Some(100.0)),
            ("DE:zone30", Some(30.0)),
            ("DE:zone:30", Some(30.0)),
            ("DE:living_street", Some(7.0)),
            ("CH:rural", Some(80.0)),
            ("FI:urban", Some(50.0)),
            ("walk", Some(7.0)),
            ("none", Some(130.0)),
            ("50;30", Some(50.0)),
            ("signals", None),
            ("variable", None),
            ("XX:moon", None),
            ("0", None),
            ("-5", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_maxspeed(input), *expected, "maxspeed={input:?}");
        }
    }

    #[test]
    fn access_table() {
        let cases: &[(Tags, bool)] = &[
            (&[("highway", "residential")], true),
            (&[("highway", "footway")], false),
            (&[("highway", "cycleway")], false),
            (&[("highway", "track")], false),
            (&[("highway", "residential"), ("access", "private")], false),
            (&[("highway", "residential"), ("access", "no")], false),
            (
                &[("highway", "residential"), ("motor_vehicle", "no")],
                false,
            ),
            (
                &[("highway", "residential"), ("motorcar", "private")],
                false,
            ),
            (
                &[
                    ("highway", "residential"),
                    ("access", "no"),
                    ("emergency", "yes"),
                ],
                true,
            ),
            (&[("highway", "service"), ("access", "emergency")], true),
            (
                &[
                    ("highway", "service"),
                    ("service", "emergency_access"),
                    ("access", "no"),
                    ("emergency", "designated"),
                ],
                true,
            ),
            (
                &[("highway", "residential"), ("access", "destination")],
                true,
            ),
            (&[("highway", "residential"), ("emergency", "no")], false),
            (
                &[("highway", "residential"), ("access", "no"), ("psv", "yes")],
                true,
            ),
            (
                &[
                    ("highway", "residential"),
                    ("motor_vehicle", "no"),
                    ("bus", "designated"),
                ],
                true,
            ),
            (&[("highway", "pedestrian")], false),
            (&[("highway", "pedestrian"), ("emergency", "yes")], true),
            (&[("highway", "pedestrian"), ("psv", "yes")], true),
            (&[("highway", "busway")], true),
            (
                &[
                    ("highway", "busway"),
                    ("access", "no"),
                    ("bus", "designated"),
                ],
                true,
            ),
            (&[("highway", "primary"), ("area", "yes")], false),
            (&[("highway", "primary"), ("oneway", "reversible")], false),
            (
                &[
                    ("highway", "primary"),
                    ("access", "yes"),
                    ("motor_vehicle", "no"),
                ],
                false,
            ),
            (
                &[
                    ("highway", "primary"),
                    ("access", "no"),
                    ("motor_vehicle", "yes"),
                ],
                true,
            ),
        ];
        for (tags, expected) in cases {
            assert_eq!(rule(tags).is_some(), *expected, "{tags:?}");
        }
    }

    #[test]
    fn oneway_table() {
        let cases: &[(Tags, (bool, bool))] = &[
            (&[("highway", "residential")], (true, true)),
            (
                &[("highway", "residential"), ("oneway", "yes")],
                (true, false),
            ),
            (
                &[("highway", "residential"), ("oneway", "1")],
                (true, false),
            ),
            (
                &[("highway", "residential"), ("oneway", "true")],
                (true, false),
            ),
            (
                &[("highway", "residential"), ("oneway", "-1")],
                (false, true),
            ),
            (
                &[("highway", "residential"), ("oneway", "no")],
                (true, true),
            ),
            (
                &[("highway", "primary"), ("junction", "roundabout")],
                (true, false),
            ),
            (
                &[("highway", "primary"), ("junction", "circular")],
                (true, false),
            ),
            (
                &[
                    ("highway", "primary"),
                    ("junction", "roundabout"),
                    ("oneway", "no"),
                ],
                (true, true),
            ),
            (&[("highway", "motorway")], (true, false)),
            (&[("highway", "motorway_link")], (true, false)),
            (&[("highway", "motorway"), ("oneway", "no")], (true, true)),
            (
                &[
                    ("highway", "residential"),
                    ("oneway", "yes"),
                    ("oneway:emergency", "no"),
                ],
                (true, true),
            ),
            (
                &[
                    ("highway", "residential"),
                    ("oneway", "yes"),
                    ("oneway:psv", "no"),
                ],
                (true, true),
            ),
        ];
        for (tags, expected) in cases {
            assert_eq!(dirs(tags), Some(*expected), "{tags:?}");
        }
    }

    #[test]
    fn speed_uses_maxspeed_then_default_and_directional_tags() {
        let r = rule(&[("highway", "primary"), ("maxspeed", "RU:urban")]).unwrap();
        assert_eq!(r.forward_kmh, Some(60.0 * 0.9));
        let r = rule(&[("highway", "residential")]).unwrap();
        assert_eq!(r.forward_kmh, Some(40.0 * 0.8));
        let r = rule(&[
            ("highway", "primary"),
            ("maxspeed", "70"),
            ("maxspeed:backward", "50"),
        ])
        .unwrap();
        assert_eq!(r.forward_kmh, Some(70.0 * 0.9));
        assert_eq!(r.backward_kmh, Some(50.0 * 0.9));
    }

    #[test]
    fn contraflow_adds_a_penalised_reverse_direction_on_minor_roads_only() {
        let p = Profile::from_toml("[oneway]\ncontraflow = true\n").unwrap();
        let r = way_rule(&[("highway", "residential"), ("oneway", "yes")][..], &p).unwrap();
        let f = r.forward_kmh.unwrap();
        assert_eq!(r.backward_kmh, Some(f / 5.0));
        let r = way_rule(&[("highway", "primary"), ("oneway", "yes")][..], &p).unwrap();
        assert_eq!(r.backward_kmh, None);
    }

    #[test]
    fn barrier_table() {
        let p = Profile::default();
        let cases: &[(Tags, bool)] = &[
            (&[], false),
            (&[("barrier", "gate")], true),
            (&[("barrier", "bollard")], true),
            (&[("barrier", "lift_gate")], true),
            (&[("barrier", "gate"), ("emergency", "yes")], false),
            (&[("barrier", "gate"), ("access", "yes")], false),
            (&[("barrier", "gate"), ("access", "private")], true),
            (&[("barrier", "bollard"), ("bollard", "removable")], false),
            (&[("barrier", "cattle_grid")], false),
            (&[("barrier", "toll_booth")], false),
            (&[("barrier", "kerb")], false),
        ];
        for (tags, expected) in cases {
            assert_eq!(node_blocks(*tags, &p), *expected, "{tags:?}");
        }
    }

    #[test]
    fn restriction_table() {
        let p = Profile::default();
        let cases: &[(Tags, Option<RestrictionKind>)] = &[
            (
                &[("type", "restriction"), ("restriction", "no_left_turn")],
                Some(RestrictionKind::No),
            ),
            (
                &[("type", "restriction"), ("restriction", "no_u_turn")],
                Some(RestrictionKind::NoUTurn),
            ),
            (
                &[("type", "restriction"), ("restriction", "only_straight_on")],
                Some(RestrictionKind::Only),
            ),
            (
                &[
                    ("type", "restriction"),
                    ("restriction:motorcar", "no_right_turn"),
                ],
                Some(RestrictionKind::No),
            ),
            (
                &[
                    ("type", "restriction"),
                    ("restriction", "no_left_turn"),
                    ("except", "psv;bicycle"),
                ],
                None,
            ),
            (
                &[
                    ("type", "restriction"),
                    ("restriction", "no_left_turn"),
                    ("except", "emergency"),
                ],
                None,
            ),
            (
                &[("type", "restriction"), ("restriction:hgv", "no_left_turn")],
                None,
            ),
            (&[("type", "multipolygon")], None),
        ];
        for (tags, expected) in cases {
            assert_eq!(restriction_kind(*tags, &p), *expected, "{tags:?}");
        }
    }
}
