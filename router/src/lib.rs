//! Routing core: customizable contraction hierarchies over the road graph (in progress).
