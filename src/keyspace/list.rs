//! The list value type. Its encodings and operations arrive with issue 3;
//! this placeholder gives the keyspace, DEBUG DIGEST and the RDB code the
//! shape they plug into.

/// A list value.
#[derive(Clone, Debug, Default)]
pub struct List {}

impl List {
    /// Number of elements.
    pub fn len(&self) -> usize {
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The encoding OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        "listpack"
    }

    /// Heap bytes owned by the value.
    pub fn heap_size(&self) -> usize {
        0
    }
}
