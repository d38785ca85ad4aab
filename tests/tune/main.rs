//! `descent::tune`: search spaces and the grid, random and Latin-hypercube designs.

mod space;
