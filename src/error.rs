//! One error type for the whole core. Messages are written for a student: they name the
//! offending value and, where there is one, the fix. `src/web/` turns them into JS `Error`s.

use std::fmt;

/// An error with a message meant to be shown to a person.
#[derive(Clone, Debug, PartialEq)]
pub struct Error(pub String);

/// `Result` with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(message: impl Into<String>) -> Self {
        Error(message.into())
    }
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Return early with a formatted [`Error`].
#[macro_export]
macro_rules! bail {
    ($($arg:tt)*) => { return Err($crate::Error::new(format!($($arg)*))) };
}

/// Return early with a formatted [`Error`] unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($arg:tt)*) => {
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !($cond) {
            $crate::bail!($($arg)*);
        }
    };
}
