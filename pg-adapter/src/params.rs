//! PostgreSQL Bind parameters → one-row Arrow RecordBatch for the Flight SQL prepared statement.
//!
//! Typed parameters (an OID from Parse, or from the prepared statement's parameter schema) are
//! decoded into the matching Arrow type, arrays into Arrow lists; untyped text parameters travel
//! as Utf8 and DuckDB casts them to the type it inferred for the placeholder.

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
    if let postgres_types::Kind::Array(element) = ty.kind() {
        return decode_array(index, v, element, binary, zone);
    }
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

/// An array parameter (`WHERE id = ANY($1)`) as a one-row Arrow list, nested for each further
/// dimension; each element is decoded as a parameter of the element type would be.
fn decode_array(
    index: usize,
    value: &[u8],
    element: &Type,
    binary: bool,
    zone: &Zone,
) -> Result<ArrayRef, ParamError> {
    let invalid_binary = || ParamError::InvalidBinary { index: index + 1 };
    let tree = if binary {
        use fallible_iterator::FallibleIterator;
        let array =
            postgres_protocol::types::array_from_sql(value).map_err(|_| invalid_binary())?;
        let dimensions: Vec<usize> = array
            .dimensions()
            .map(|d| Ok(usize::try_from(d.len).unwrap_or(0)))
            .collect()
            .map_err(|_| invalid_binary())?;
        let items: Vec<ArrayItem> = array
            .values()
            .map(|item| Ok(item.map_or(ArrayItem::Null, |bytes| ArrayItem::Value(bytes.to_vec()))))
            .collect()
            .map_err(|_| invalid_binary())?;
        nest(items, &dimensions).ok_or_else(invalid_binary)?
    } else {
        let text = std::str::from_utf8(value).map_err(|_| invalid_binary())?;
        parse_array_text(text).ok_or_else(|| ParamError::InvalidText {
            ty: format!("{}[]", element.name()),
            value: text.to_owned(),
        })?
    };
    array_from_items(index, &tree, element, binary, zone)
}

/// An array parameter's contents: elements, and sub-arrays for further dimensions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ArrayItem {
    Null,
    Value(Vec<u8>),
    List(Vec<ArrayItem>),
}

/// Groups row-major `items` into the nested lists `dimensions` describe.
fn nest(items: Vec<ArrayItem>, dimensions: &[usize]) -> Option<ArrayItem> {
    if dimensions.is_empty() || dimensions.contains(&0) {
        return items.is_empty().then(|| ArrayItem::List(Vec::new()));
    }
    if items.len() != dimensions.iter().product::<usize>() {
        return None;
    }
    // Innermost dimension first: each pass groups the level below into lists of its length;
    // the outermost pass leaves one list.
    let mut level = items;
    for &len in dimensions.iter().rev() {
        let mut rest = level.into_iter().peekable();
        let mut grouped = Vec::new();
        while rest.peek().is_some() {
            grouped.push(ArrayItem::List(rest.by_ref().take(len).collect()));
        }
        level = grouped;
    }
    level.pop()
}

/// Parses PostgreSQL's array text (`{1,2,NULL}`, `{"a b","c\"d"}`, `{{1,2},{3,4}}`), with an
/// optional dimension prefix (`[0:1]={1,2}`); `None` if it is not an array literal.
/// (pgwire's own array text reader reads a quoted `"NULL"` or `""` as NULL.)
pub(crate) fn parse_array_text(text: &str) -> Option<ArrayItem> {
    let text = text.trim();
    let text = if text.starts_with('[') {
        text.split_once('=')?.1.trim_start()
    } else {
        text
    };
    let mut chars = text.chars().peekable();
    let item = parse_array_level(&mut chars)?;
    chars.all(char::is_whitespace).then_some(item)
}

fn parse_array_level(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Option<ArrayItem> {
    if chars.next()? != '{' {
        return None;
    }
    let mut items = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.peek()? {
            '}' if items.is_empty() => {
                chars.next();
                return Some(ArrayItem::List(items));
            }
            '{' => items.push(parse_array_level(chars)?),
            '"' => {
                chars.next();
                let mut element = String::new();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => element.push(chars.next()?),
                        c => element.push(c),
                    }
                }
                items.push(ArrayItem::Value(element.into_bytes()));
            }
            _ => {
                let mut element = String::new();
                while let Some(c) = chars.next_if(|c| *c != ',' && *c != '}') {
                    if c == '\\' {
                        element.push(chars.next()?);
                    } else {
                        element.push(c);
                    }
                }
                let element = element.trim_end();
                if element.is_empty() {
                    return None;
                }
                items.push(if element.eq_ignore_ascii_case("null") {
                    ArrayItem::Null
                } else {
                    ArrayItem::Value(element.as_bytes().to_vec())
                });
            }
        }
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        match chars.next()? {
            ',' => continue,
            '}' => return Some(ArrayItem::List(items)),
            _ => return None,
        }
    }
}

/// A one-row Arrow list of `item` (an `ArrayItem::List`), elements decoded as `element`.
fn array_from_items(
    index: usize,
    item: &ArrayItem,
    element: &Type,
    binary: bool,
    zone: &Zone,
) -> Result<ArrayRef, ParamError> {
    let ArrayItem::List(items) = item else {
        return Err(ParamError::InvalidBinary { index: index + 1 });
    };
    let mut values = items
        .iter()
        .map(|item| match item {
            ArrayItem::Null => decode(index, None, element, binary, zone),
            ArrayItem::Value(bytes) => decode(index, Some(bytes), element, binary, zone),
            ArrayItem::List(_) => array_from_items(index, item, element, binary, zone),
        })
        .collect::<Result<Vec<ArrayRef>, _>>()?;
    // Elements decode to one type, but for text that is sometimes read and sometimes left to
    // DuckDB (a timestamptz with or without an offset): then all go as text.
    let first_type = values.first().map(|v| v.data_type().clone());
    if values
        .iter()
        .any(|v| Some(v.data_type()) != first_type.as_ref())
    {
        values = values
            .iter()
            .map(|v| match v.data_type() {
                DataType::List(_) => Ok(Arc::clone(v)),
                _ => arrow::compute::cast(v, &DataType::Utf8),
            })
            .collect::<Result<_, _>>()
            .map_err(|_| ParamError::InvalidBinary { index: index + 1 })?;
    }
    let values: ArrayRef = if values.is_empty() {
        arrow::array::new_empty_array(&arrow_type(element).unwrap_or(DataType::Utf8))
    } else {
        let refs: Vec<&dyn arrow::array::Array> = values.iter().map(|v| v.as_ref()).collect();
        arrow::compute::concat(&refs).map_err(|_| ParamError::InvalidText {
            ty: format!("{}[]", element.name()),
            value: "(sub-arrays of different dimensions)".to_owned(),
        })?
    };
    let field = Arc::new(Field::new("item", values.data_type().clone(), true));
    let offsets = arrow::buffer::OffsetBuffer::from_lengths([values.len()]);
    Ok(Arc::new(arrow::array::ListArray::new(
        field, offsets, values, None,
    )))
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
    if let postgres_types::Kind::Array(element) = ty.kind() {
        let element = arrow_type(element).unwrap_or(DataType::Utf8);
        return Some(DataType::List(Arc::new(Field::new("item", element, true))));
    }
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
        // `= ANY($1::BIGINT[])`: clients that encode by the described type (asyncpg) send an
        // array, and psycopg's untyped string lists are read as one.
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            match crate::encode::list_type_of(item.data_type()) {
                Type::JSON => Type::UNKNOWN,
                array => array,
            }
        }
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

    fn value(text: &str) -> ArrayItem {
        ArrayItem::Value(text.as_bytes().to_vec())
    }

    #[test]
    fn parses_array_text_as_postgresql_writes_it() {
        use ArrayItem::{List, Null};
        let cases = [
            ("{}", List(vec![])),
            ("{1,2,3}", List(vec![value("1"), value("2"), value("3")])),
            (" { 1 , NULL,null } ", List(vec![value("1"), Null, Null])),
            (
                r#"{"a b","NULL","",c\,d,"e\"f"}"#,
                List(vec![
                    value("a b"),
                    value("NULL"),
                    value(""),
                    value("c,d"),
                    value("e\"f"),
                ]),
            ),
            (
                "{{1,2},{3,4}}",
                List(vec![
                    List(vec![value("1"), value("2")]),
                    List(vec![value("3"), value("4")]),
                ]),
            ),
            ("[0:1]={7,8}", List(vec![value("7"), value("8")])),
        ];
        for (text, want) in cases {
            assert_eq!(parse_array_text(text), Some(want), "{text}");
        }
        for bad in ["", "1,2", "{1,2", "{1,,2}", "{1} x", "{\"a}", "{,}"] {
            assert_eq!(parse_array_text(bad), None, "{bad}");
        }
    }

    #[test]
    fn nests_binary_array_items_by_dimension() {
        use ArrayItem::List;
        let items: Vec<ArrayItem> = (1..=6).map(|i| value(&i.to_string())).collect();
        assert_eq!(
            nest(items.clone(), &[2, 3]),
            Some(List(vec![
                List(vec![value("1"), value("2"), value("3")]),
                List(vec![value("4"), value("5"), value("6")]),
            ]))
        );
        assert_eq!(nest(items.clone(), &[6]), Some(List(items.clone())));
        assert_eq!(nest(items.clone(), &[4]), None);
        assert_eq!(nest(Vec::new(), &[]), Some(List(vec![])));
    }

    #[test]
    fn array_parameters_become_lists() {
        let zone = Zone::UTC;
        let batch = to_record_batch(
            &[
                Some(Bytes::from_static(b"{1,NULL,3}")),
                Some(Bytes::from_static(b"{{a,b},{c,d}}")),
                None,
            ],
            &Format::UnifiedText,
            &[Type::INT4_ARRAY, Type::TEXT_ARRAY, Type::INT8_ARRAY],
            &zone,
        )
        .unwrap();
        let ints = batch.column(0).as_list::<i32>().value(0);
        assert_eq!(
            ints.as_primitive::<Int32Type>().iter().collect::<Vec<_>>(),
            vec![Some(1), None, Some(3)]
        );
        let nested = batch.column(1).as_list::<i32>().value(0);
        assert_eq!(nested.len(), 2);
        assert_eq!(
            nested.as_list::<i32>().value(1).as_string::<i32>().value(0),
            "c"
        );
        assert!(batch.column(2).is_null(0));
        assert!(
            matches!(batch.column(2).data_type(), DataType::List(f) if f.data_type() == &DataType::Int64)
        );

        // Binary: one dimension of three int4, the middle one NULL.
        let mut binary = Vec::new();
        for word in [1i32, 1, 23, 3, 1] {
            binary.extend_from_slice(&word.to_be_bytes());
        }
        binary.extend_from_slice(&4i32.to_be_bytes());
        binary.extend_from_slice(&7i32.to_be_bytes());
        binary.extend_from_slice(&(-1i32).to_be_bytes());
        binary.extend_from_slice(&4i32.to_be_bytes());
        binary.extend_from_slice(&9i32.to_be_bytes());
        let batch = to_record_batch(
            &[Some(Bytes::from(binary))],
            &Format::UnifiedBinary,
            &[Type::INT4_ARRAY],
            &zone,
        )
        .unwrap();
        let ints = batch.column(0).as_list::<i32>().value(0);
        assert_eq!(
            ints.as_primitive::<Int32Type>().iter().collect::<Vec<_>>(),
            vec![Some(7), None, Some(9)]
        );
        assert!(to_record_batch(
            &[Some(Bytes::from_static(b"{1,x}"))],
            &Format::UnifiedText,
            &[Type::INT4_ARRAY],
            &zone,
        )
        .is_err());
    }
}
