//! Hospitals and what they can treat; the dispatcher picks the capable hospital a crew
//! reaches soonest.

use std::fmt;

use router::Snapped;
use serde::{Deserialize, Serialize};

use crate::crew::Position;

/// What a hospital can treat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    /// Percutaneous coronary intervention (heart attacks).
    Pci,
    /// Stroke unit.
    Stroke,
    /// Trauma centre.
    Trauma,
    /// Paediatric emergency department.
    Paediatric,
    /// General emergency department.
    General,
}

impl Capability {
    /// The snake_case name used in JSON and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Pci => "pci",
            Capability::Stroke => "stroke",
            Capability::Trauma => "trauma",
            Capability::Paediatric => "paediatric",
            Capability::General => "general",
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the service tells the dispatcher about a hospital.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewHospital {
    /// Unique id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its emergency entrance, latitude.
    pub lat: f64,
    /// Its emergency entrance, longitude.
    pub lon: f64,
    /// What it can treat (a hospital treats only what is listed).
    pub capabilities: Vec<Capability>,
}

/// A hospital as the dispatcher knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Hospital {
    /// Unique id. Equal ETAs go to the lowest id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its emergency entrance.
    pub position: Position,
    /// That position snapped to the road network.
    #[serde(skip, default = "crate::serde_util::not_on_road")]
    pub snapped: Snapped,
    /// What it can treat.
    pub capabilities: Vec<Capability>,
}

impl Hospital {
    /// Whether it can treat `c`.
    pub fn can(&self, c: Capability) -> bool {
        self.capabilities.contains(&c)
    }
}
