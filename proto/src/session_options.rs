//! Flight RPC session-option messages (`SetSessionOptions`, `GetSessionOptions`,
//! `CloseSession` actions from Flight.proto), which the arrow-flight crate does not generate.
//! Field numbers and types follow Flight.proto exactly.

use std::collections::HashMap;

/// Action type names.
pub const SET_SESSION_OPTIONS: &str = "SetSessionOptions";
/// Action type names.
pub const GET_SESSION_OPTIONS: &str = "GetSessionOptions";
/// Action type names.
pub const CLOSE_SESSION: &str = "CloseSession";

/// A session option's value.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SessionOptionValue {
    /// The value.
    #[prost(oneof = "OptionValue", tags = "1, 2, 3, 4, 5")]
    pub option_value: Option<OptionValue>,
}

/// The kinds of session option values.
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum OptionValue {
    /// A string.
    #[prost(string, tag = "1")]
    StringValue(String),
    /// A boolean.
    #[prost(bool, tag = "2")]
    BoolValue(bool),
    /// A 64-bit integer.
    #[prost(sfixed64, tag = "3")]
    Int64Value(i64),
    /// A double.
    #[prost(double, tag = "4")]
    DoubleValue(f64),
    /// A list of strings.
    #[prost(message, tag = "5")]
    StringListValue(StringListValue),
}

/// A list of strings.
#[derive(Clone, PartialEq, prost::Message)]
pub struct StringListValue {
    /// The strings.
    #[prost(string, repeated, tag = "1")]
    pub values: Vec<String>,
}

/// Body of the `SetSessionOptions` action.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SetSessionOptionsRequest {
    /// Options to set.
    #[prost(map = "string, message", tag = "1")]
    pub session_options: HashMap<String, SessionOptionValue>,
}

/// Result of `SetSessionOptions`: errors for the options that were not set.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SetSessionOptionsResult {
    /// Per-option errors.
    #[prost(map = "string, message", tag = "1")]
    pub errors: HashMap<String, SetSessionOptionsError>,
}

/// One option's error.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SetSessionOptionsError {
    /// What went wrong.
    #[prost(enumeration = "SetSessionOptionsErrorValue", tag = "1")]
    pub value: i32,
}

/// Why an option was not set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SetSessionOptionsErrorValue {
    /// Protobuf default.
    Unspecified = 0,
    /// The option name is not known.
    InvalidName = 1,
    /// The value is not valid for the option.
    InvalidValue = 2,
    /// Another error.
    Error = 3,
}

/// Body of `GetSessionOptions` (empty).
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetSessionOptionsRequest {}

/// Result of `GetSessionOptions`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GetSessionOptionsResult {
    /// The session's options.
    #[prost(map = "string, message", tag = "1")]
    pub session_options: HashMap<String, SessionOptionValue>,
}

/// Body of `CloseSession` (empty).
#[derive(Clone, PartialEq, prost::Message)]
pub struct CloseSessionRequest {}

/// Result of `CloseSession`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct CloseSessionResult {
    /// Outcome.
    #[prost(enumeration = "CloseSessionStatus", tag = "1")]
    pub status: i32,
}

/// Outcome of closing a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum CloseSessionStatus {
    /// Protobuf default.
    Unspecified = 0,
    /// The session is closed.
    Closed = 1,
    /// The session is closing.
    Closing = 2,
    /// The session cannot be closed.
    NotCloseable = 3,
}
