//! PostgreSQL Bind parameters → one-row Arrow RecordBatch for the Flight SQL prepared statement.
//!
//! Typed parameters (an OID from Parse, or from the prepared statement's parameter schema) are
//! decoded into the matching Arrow type; untyped text parameters travel as Utf8 and DuckDB casts
//! them to the type it inferred for the placeholder.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Float32Array, Float64Array, Int16Array,
    Int32Array, Int64Array, NullArray, RecordBatch, StringArray, Time64MicrosecondArray,
    TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Field, Schema};
use bytes::Bytes;
use pgwire::api::portal::Format;
use pgwire::api::Type;

use crate::epoch;
use crate::timezone::Zone;

/// Why a parameter could not be decoded (22P02 / 08P01 for the client).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ParamError {
    #[error("invalid input syntax for type {ty}: \"{value}\"")]
    InvalidText { ty: String, value: String },
    #[error("incorrect binary data format in bind parameter {index}")]
    InvalidBinary { index: usize },
    #[error("bind message supplies {got} parameters, but prepared statement requires {expected}")]
    Count { got: usize, expected: usize },
}

/// The PostgreSQL type a placeholder is treated as: the client's OID when it gave one, else
/// the type derived from the prepared statement's parameter schema, else `unknown` (text).
pub(crate) fn effective_types(client: &[Option<Type>], server: &[Type], count: usize) -> Vec<Type> {
    (0..count)
        .map(|i| {
            client
                .get(i)
                .cloned()
                .flatten()
                .filter(|t| *t != Type::UNKNOWN)
                .or_else(|| server.get(i).cloned())
                .unwrap_or(Type::UNKNOWN)
        })
        .collect()
}

/// Builds the parameter batch. `types` has one entry per placeholder.
/// Text `timestamptz` values without an offset are read in `zone`, the session's `TimeZone`,
/// as PostgreSQL reads them.
pub(crate) fn to_record_batch(
    values: &[Option<Bytes>],
    format: &Format,
    types: &[Type],
    zone: &Zone,
) -> Result<RecordBatch, ParamError> {
    if values.len() != types.len() {
        return Err(ParamError::Count {
            got: values.len(),
            expected: types.len(),
        });
    }
    let mut fields = Vec::with_capacity(values.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(values.len());
    for (i, (value, ty)) in values.iter().zip(types).enumerate() {
        let binary = format.is_binary(i);
        let column = decode(i, value.as_deref(), ty, binary, zone)?;
        fields.push(Field::new(
            format!("${}", i + 1),
            column.data_type().clone(),
            true,
        ));
        columns.push(column);
    }
    let schema = Arc::new(Schema::new(fields));
    let options = arrow::array::RecordBatchOptions::new().with_row_count(Some(1));
    RecordBatch::try_new_with_options(schema, columns, &options)
        .map_err(|_| ParamError::InvalidBinary { index: 0 })
}

fn decode(
    index: usize,
    value: Option<&[u8]>,
    ty: &Type,
    binary: bool,
    zone: &Zone,
) -> Result<ArrayRef, ParamError> {
    let invalid_binary = || ParamError::InvalidBinary { index: index + 1 };
    let text = |v: &[u8]| -> Result<String, ParamError> {
        String::from_utf8(v.to_vec()).map_err(|_| invalid_binary())
    };
    let invalid_text = |v: &str| ParamError::InvalidText {
        ty: ty.name().to_owned(),
        value: v.to_owned(),
    };
    let Some(v) = value else {
        return Ok(match arrow_type(ty) {
            Some(dt) => arrow::array::new_null_array(&dt, 1),
            None => Arc::new(NullArray::new(1)),
        });
    };
    let fixed = |n: usize| -> Result<&[u8], ParamError> {
        if v.len() == n {
            Ok(v)
        } else {
            Err(invalid_binary())
        }
    };
    Ok(match *ty {
        Type::BOOL => Arc::new(BooleanArray::from(vec![if binary {
            fixed(1)?[0] != 0
        } else {
            let s = text(v)?;
            match s.trim().to_lowercase().as_str() {
                "t" | "true" | "y" | "yes" | "on" | "1" => true,
                "f" | "false" | "n" | "no" | "off" | "0" => false,
                _ => return Err(invalid_text(&s)),
            }
        }])),
        Type::INT2 => Arc::new(Int16Array::from(vec![if binary {
            i16::from_be_bytes(fixed(2)?.try_into().map_err(|_| invalid_binary())?)
        } else {
            let s = text(v)?;
            s.trim().parse().map_err(|_| invalid_text(&s))?
        }])),
        Type::INT4 => Arc::new(Int32Array::from(vec![if binary {
            i32::from_be_bytes(fixed(4)?.try_into().map_err(|_| invalid_binary())?)
        } else {
            let s = text(v)?;
            s.trim().parse().map_err(|_| invalid_text(&s))?
        }])),
        Type::INT8 => Arc::new(Int64Array::from(vec![if binary {
            i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| invalid_binary())?)
        } else {
            let s = text(v)?;
            s.trim().parse().map_err(|_| invalid_text(&s))?
        }])),
        Type::OID => Arc::new(Int64Array::from(vec![if binary {
            i64::from(u32::from_be_bytes(
                fixed(4)?.try_into().map_err(|_| invalid_binary())?,
            ))
        } else {
            let s = text(v)?;
            s.trim().parse().map_err(|_| invalid_text(&s))?
        }])),
        Type::FLOAT4 => Arc::new(Float32Array::from(vec![if binary {
            f32::from_be_bytes(fixed(4)?.try_into().map_err(|_| invalid_binary())?)
        } else {
            let s = text(v)?;
            parse_float(&s).ok_or_else(|| invalid_text(&s))? as f32
        }])),
        Type::FLOAT8 => Arc::new(Float64Array::from(vec![if binary {
            f64::from_be_bytes(fixed(8)?.try_into().map_err(|_| invalid_binary())?)
        } else {
            let s = text(v)?;
            parse_float(&s).ok_or_else(|| invalid_text(&s))?
        }])),
        Type::BYTEA => Arc::new(BinaryArray::from_vec(vec![
            &if binary {
                v.to_vec()
            } else {
                bytea_from_text(&text(v)?).ok_or_else(|| invalid_text("bytea"))?
            }[..],
        ])),
        Type::DATE if binary => {
            let days = i32::from_be_bytes(fixed(4)?.try_into().map_err(|_| invalid_binary())?);
            Arc::new(Date32Array::from(vec![epoch::unix_days(days)]))
        }
        Type::TIMESTAMP if binary => {
            let us = i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| invalid_binary())?);
            Arc::new(TimestampMicrosecondArray::from(vec![epoch::unix_micros(
                us,
            )]))
        }
        Type::TIMESTAMPTZ if binary => {
            let us = i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| invalid_binary())?);
            Arc::new(
                TimestampMicrosecondArray::from(vec![epoch::unix_micros(us)]).with_timezone("UTC"),
            )
        }
        Type::TIMESTAMPTZ => {
            let s = text(v)?;
            match local_timestamp_micros(&s, zone) {
                Some(us) => {
                    Arc::new(TimestampMicrosecondArray::from(vec![us]).with_timezone("UTC"))
                }
                // With an offset, or a special value: DuckDB reads it as written.
                None => Arc::new(StringArray::from(vec![s])),
            }
        }
        Type::TIME if binary => {
            let us = i64::from_be_bytes(fixed(8)?.try_into().map_err(|_| invalid_binary())?);
            Arc::new(Time64MicrosecondArray::from(vec![us]))
        }
        Type::UUID if binary => {
            let u = uuid::Uuid::from_slice(fixed(16)?).map_err(|_| invalid_binary())?;
            Arc::new(StringArray::from(vec![u.hyphenated().to_string()]))
        }
        Type::NUMERIC if binary => Arc::new(StringArray::from(vec![
            numeric_from_binary(v).ok_or_else(invalid_binary)?
        ])),
        Type::INTERVAL if binary => {
            let b = fixed(16)?;
            let micros = i64::from_be_bytes(b[0..8].try_into().map_err(|_| invalid_binary())?);
            let days = i32::from_be_bytes(b[8..12].try_into().map_err(|_| invalid_binary())?);
            let months = i32::from_be_bytes(b[12..16].try_into().map_err(|_| invalid_binary())?);
            Arc::new(StringArray::from(vec![format!(
                "{months} months {days} days {micros} microseconds"
            )]))
        }
        Type::JSONB if binary => {
            // jsonb binary = version byte 1 + text
            let body = v.get(1..).ok_or_else(invalid_binary)?;
            Arc::new(StringArray::from(vec![text(body)?]))
        }
        // Text (and binary forms that are text): DuckDB casts from VARCHAR.
        _ => {
            if binary && !is_textual(ty) {
                return Err(invalid_binary());
            }
            Arc::new(StringArray::from(vec![text(v)?]))
        }
    })
}

/// Microseconds since the Unix epoch (UTC) of a `timestamptz` text that names no offset, read
/// as local time in `zone`; `None` when the text has an offset or is not a plain timestamp.
fn local_timestamp_micros(text: &str, zone: &Zone) -> Option<i64> {
    let text = text.trim();
    let local = [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
    .or_else(|| {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
    })?;
    let local = local.and_utc();
    let local_secs = local.timestamp();
    // The offset in force at that local time: guess with the offset at the same UTC instant,
    // then take the offset at the instant the guess names (right except inside a DST gap).
    let guess = local_secs - i64::from(zone.offset_at(local_secs));
    let utc_secs = local_secs - i64::from(zone.offset_at(guess));
    Some(utc_secs * 1_000_000 + i64::from(local.timestamp_subsec_micros()))
}

fn is_textual(ty: &Type) -> bool {
    matches!(
        *ty,
        Type::TEXT
            | Type::VARCHAR
            | Type::BPCHAR
            | Type::NAME
            | Type::UNKNOWN
            | Type::JSON
            | Type::XML
            | Type::CHAR
    )
}

/// The Arrow type a NULL of `ty` is sent as.
fn arrow_type(ty: &Type) -> Option<DataType> {
    Some(match *ty {
        Type::BOOL => DataType::Boolean,
        Type::INT2 => DataType::Int16,
        Type::INT4 => DataType::Int32,
        Type::INT8 | Type::OID => DataType::Int64,
        Type::FLOAT4 => DataType::Float32,
        Type::FLOAT8 => DataType::Float64,
        Type::BYTEA => DataType::Binary,
        Type::DATE => DataType::Date32,
        Type::TIMESTAMP => DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, None),
        Type::TIMESTAMPTZ => {
            DataType::Timestamp(arrow::datatypes::TimeUnit::Microsecond, Some("UTC".into()))
        }
        Type::UNKNOWN => return None,
        _ => DataType::Utf8,
    })
}

/// The PostgreSQL type a prepared statement's Arrow parameter is described as.
pub(crate) fn pg_param_type(dt: &DataType) -> Type {
    match dt {
        DataType::Null => Type::UNKNOWN,
        DataType::Boolean => Type::BOOL,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => Type::INT2,
        DataType::Int32 | DataType::UInt16 => Type::INT4,
        DataType::Int64 | DataType::UInt32 => Type::INT8,
        DataType::Float16 | DataType::Float32 => Type::FLOAT4,
        DataType::Float64 => Type::FLOAT8,
        DataType::Decimal128(_, _) | DataType::Decimal256(_, _) | DataType::UInt64 => Type::NUMERIC,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Type::BYTEA,
        DataType::Date32 | DataType::Date64 => Type::DATE,
        DataType::Timestamp(_, None) => Type::TIMESTAMP,
        DataType::Timestamp(_, Some(_)) => Type::TIMESTAMPTZ,
        DataType::Time32(_) | DataType::Time64(_) => Type::TIME,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Type::VARCHAR,
        _ => Type::UNKNOWN,
    }
}

fn parse_float(s: &str) -> Option<f64> {
    match s.trim().to_lowercase().as_str() {
        "nan" => Some(f64::NAN),
        "infinity" | "inf" | "+infinity" => Some(f64::INFINITY),
        "-infinity" | "-inf" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

fn bytea_from_text(s: &str) -> Option<Vec<u8>> {
    if let Some(hex) = s.strip_prefix("\\x") {
        if hex.len() % 2 != 0 {
            return None;
        }
        return (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect();
    }
    // escape format: backslash-octal sequences
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
            } else {
                let oct = s.get(i + 1..i + 4)?;
                out.push(u8::from_str_radix(oct, 8).ok()?);
                i += 4;
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Decodes PostgreSQL binary numeric into its decimal text.
pub(crate) fn numeric_from_binary(b: &[u8]) -> Option<String> {
    let word =
        |i: usize| -> Option<i16> { Some(i16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?)) };
    let ndigits = word(0)? as usize;
    let weight = i32::from(word(2)?);
    let sign = word(4)? as u16;
    let dscale = word(6)?.max(0) as usize;
    if sign == 0xC000 {
        return Some("NaN".into());
    }
    let digits: Vec<i32> = (0..ndigits)
        .map(|i| word(8 + 2 * i).map(i32::from))
        .collect::<Option<_>>()?;
    let mut int = String::new();
    for k in 0..=weight.max(-1) {
        let d = digits.get(k as usize).copied().unwrap_or(0);
        if int.is_empty() {
            if d != 0 {
                int.push_str(&d.to_string());
            }
        } else {
            int.push_str(&format!("{d:04}"));
        }
    }
    if int.is_empty() {
        int.push('0');
    }
    let mut frac = String::new();
    let mut k = weight + 1;
    while frac.len() < dscale {
        let d = if k < 0 {
            0
        } else {
            digits.get(k as usize).copied().unwrap_or(0)
        };
        frac.push_str(&format!("{d:04}"));
        k += 1;
    }
    frac.truncate(dscale);
    let neg = if sign == 0x4000 { "-" } else { "" };
    Some(if frac.is_empty() {
        format!("{neg}{int}")
    } else {
        format!("{neg}{int}.{frac}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Int32Type;

    #[test]
    fn decodes_text_and_binary_parameters() {
        let values = vec![
            Some(Bytes::from_static(b"42")),
            Some(Bytes::copy_from_slice(&7i64.to_be_bytes())),
            None,
            Some(Bytes::from_static(b"hi")),
        ];
        let format = Format::Individual(vec![0, 1, 0, 0]);
        let types = [Type::INT4, Type::INT8, Type::INT4, Type::UNKNOWN];
        let batch = to_record_batch(&values, &format, &types, &Zone::UTC).unwrap();
        assert_eq!(batch.num_rows(), 1);
        assert_eq!(batch.column(0).as_primitive::<Int32Type>().value(0), 42);
        assert_eq!(
            batch
                .column(1)
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(0),
            7
        );
        assert!(batch.column(2).is_null(0));
        assert_eq!(batch.column(3).as_string::<i32>().value(0), "hi");
    }

    #[test]
    fn text_timestamptz_without_offset_is_local_time() {
        let berlin = Zone::parse("Europe/Berlin").expect("tzdata");
        // Winter (+01) and summer (+02).
        assert_eq!(
            local_timestamp_micros("2024-01-15 10:00:00", &berlin),
            Some(1_705_309_200_000_000)
        );
        assert_eq!(
            local_timestamp_micros("2024-07-15 10:00:00.5", &berlin),
            Some(1_721_030_400_500_000)
        );
        assert_eq!(
            local_timestamp_micros("2024-07-15", &Zone::Fixed(-5 * 3600)),
            Some(1_721_019_600_000_000)
        );
        assert_eq!(
            local_timestamp_micros("2024-07-15 10:00:00+02", &berlin),
            None
        );
        assert_eq!(local_timestamp_micros("infinity", &berlin), None);
    }

    #[test]
    fn rejects_bad_parameters() {
        let err = to_record_batch(
            &[Some(Bytes::from_static(b"x1"))],
            &Format::UnifiedText,
            &[Type::INT4],
            &Zone::UTC,
        )
        .unwrap_err();
        assert_eq!(
            err,
            ParamError::InvalidText {
                ty: "int4".into(),
                value: "x1".into()
            }
        );
        let err = to_record_batch(
            &[Some(Bytes::from_static(b"\x01"))],
            &Format::UnifiedBinary,
            &[Type::INT4],
            &Zone::UTC,
        )
        .unwrap_err();
        assert_eq!(err, ParamError::InvalidBinary { index: 1 });
        assert!(matches!(
            to_record_batch(&[], &Format::UnifiedText, &[Type::INT4], &Zone::UTC),
            Err(ParamError::Count { .. })
        ));
    }

    #[test]
    fn numeric_round_trips() {
        for s in [
            "123.45",
            "-0.05",
            "10000",
            "0.00",
            "18446744073709551615",
            "0.0001",
            "1.5",
        ] {
            let mut buf = bytes::BytesMut::new();
            crate::encode::numeric_binary(&mut buf, s);
            assert_eq!(numeric_from_binary(&buf).as_deref(), Some(s));
        }
    }

    #[test]
    fn client_types_win_over_server_types() {
        let t = effective_types(
            &[Some(Type::INT8), None, Some(Type::UNKNOWN)],
            &[Type::INT4, Type::VARCHAR, Type::BOOL],
            4,
        );
        assert_eq!(
            t,
            vec![Type::INT8, Type::VARCHAR, Type::BOOL, Type::UNKNOWN]
        );
    }
}
