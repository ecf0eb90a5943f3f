pub mod glob;
pub mod num;
pub mod repr;
pub mod splitargs;
pub use repr::repr;
