//! The one error type of the `router` crate.

/// What can go wrong when preparing or querying the router.
#[derive(Debug, thiserror::Error)]
pub enum RouterError {
    /// No drivable road of the map is within the snapping radius of the coordinate.
    #[error("no road within {max_distance_m} m of ({lat:.6}, {lon:.6})")]
    NoSegment {
        /// Latitude asked for.
        lat: f64,
        /// Longitude asked for.
        lon: f64,
        /// The snapping radius, metres (infinite: the map has no road).
        max_distance_m: f64,
    },
    /// A coordinate is not a valid latitude/longitude.
    #[error("invalid coordinate ({lat}, {lon})")]
    InvalidCoordinate {
        /// Latitude given.
        lat: f64,
        /// Longitude given.
        lon: f64,
    },
    /// The graph file could not be read.
    #[error(transparent)]
    Graph(#[from] osm_data::Error),
    /// The graph cannot be prepared (malformed arrays).
    #[error("cannot prepare the graph: {0}")]
    Prepare(#[from] crate::cch::CchError),
    /// The cached preprocessing next to the graph could not be written.
    /// (The error names the file.)
    #[error("cannot keep the preprocessing cache: {0}")]
    Cache(#[source] osm_data::Error),
    /// A closure's values are out of bounds (a factor below 1 in a request, a polygon that
    /// crosses itself, ...); the message names the field.
    #[error("invalid closure: {0}")]
    InvalidClosure(String),
    /// A closure request is not the JSON the closures API reads (an unknown field, a string
    /// for a number, ...); the message names the field.
    #[error("malformed closure request: {0}")]
    MalformedClosure(String),
    /// No closure has this id.
    #[error("no closure with id {0}")]
    UnknownClosure(u64),
}

impl RouterError {
    /// For a closure refused ([`RouterError::MalformedClosure`],
    /// [`RouterError::InvalidClosure`]), the message that names the field, as
    /// `factor: must be at least 1, a travel-time multiplier (got 0.5)`.
    pub fn closure_field_message(&self) -> Option<&str> {
        match self {
            RouterError::MalformedClosure(m) | RouterError::InvalidClosure(m) => Some(m),
            _ => None,
        }
    }
}
