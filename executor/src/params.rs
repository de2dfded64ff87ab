//! Bound parameters: Arrow record batches from Flight SQL `DoPut` become DuckDB values.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::*;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use bytes::Bytes;
use duckdb::types::{TimeUnit as DuckTimeUnit, Value};

use crate::error::ExecutorError;

/// Encodes parameter batches as one Arrow IPC stream (what a handle carries).
pub fn encode_parameters(batches: &[RecordBatch]) -> Result<Bytes, ExecutorError> {
    let Some(first) = batches.first() else {
        return Ok(Bytes::new());
    };
    let mut buffer = Vec::new();
    {
        let mut writer = StreamWriter::try_new(&mut buffer, &first.schema())
            .map_err(|e| ExecutorError::BadRequest(format!("bad parameter batch: {e}")))?;
        for batch in batches {
            writer
                .write(batch)
                .map_err(|e| ExecutorError::BadRequest(format!("bad parameter batch: {e}")))?;
        }
        writer
            .finish()
            .map_err(|e| ExecutorError::BadRequest(format!("bad parameter batch: {e}")))?;
    }
    Ok(Bytes::from(buffer))
}

/// Decodes an IPC parameter stream into one row of DuckDB values per execution.
pub fn decode_parameters(ipc: &[u8]) -> Result<Vec<Vec<Value>>, ExecutorError> {
    if ipc.is_empty() {
        return Ok(Vec::new());
    }
    let reader = StreamReader::try_new(ipc, None)
        .map_err(|e| ExecutorError::BadRequest(format!("malformed parameters: {e}")))?;
    let mut rows = Vec::new();
    for batch in reader {
        let batch =
            batch.map_err(|e| ExecutorError::BadRequest(format!("malformed parameters: {e}")))?;
        rows.extend(batch_to_rows(&batch)?);
    }
    Ok(rows)
}

/// One row of values per row of the batch, one value per column.
pub fn batch_to_rows(batch: &RecordBatch) -> Result<Vec<Vec<Value>>, ExecutorError> {
    (0..batch.num_rows())
        .map(|row| {
            batch
                .columns()
                .iter()
                .map(|column| value_at(column, row))
                .collect()
        })
        .collect()
}

fn value_at(array: &ArrayRef, row: usize) -> Result<Value, ExecutorError> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    let unsupported = || {
        ExecutorError::BadRequest(format!(
            "parameters of Arrow type {} are not supported",
            array.data_type()
        ))
    };
    Ok(match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Boolean(array.as_boolean().value(row)),
        DataType::Int8 => Value::TinyInt(array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => Value::SmallInt(array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => Value::Int(array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => Value::BigInt(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => Value::UTinyInt(array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => Value::USmallInt(array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => Value::UInt(array.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => Value::UBigInt(array.as_primitive::<UInt64Type>().value(row)),
        DataType::Float16 => Value::Float(array.as_primitive::<Float16Type>().value(row).to_f32()),
        DataType::Float32 => Value::Float(array.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => Value::Double(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => Value::Text(array.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Value::Text(array.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Value::Text(array.as_string_view().value(row).to_owned()),
        DataType::Binary => Value::Blob(array.as_binary::<i32>().value(row).to_vec()),
        DataType::LargeBinary => Value::Blob(array.as_binary::<i64>().value(row).to_vec()),
        DataType::BinaryView => Value::Blob(array.as_binary_view().value(row).to_vec()),
        DataType::FixedSizeBinary(_) => {
            Value::Blob(array.as_fixed_size_binary().value(row).to_vec())
        }
        DataType::Date32 => Value::Date32(array.as_primitive::<Date32Type>().value(row)),
        DataType::Date64 => {
            Value::Date32((array.as_primitive::<Date64Type>().value(row) / 86_400_000) as i32)
        }
        DataType::Timestamp(unit, _) => {
            let (unit, value) = match unit {
                TimeUnit::Second => (
                    DuckTimeUnit::Second,
                    array.as_primitive::<TimestampSecondType>().value(row),
                ),
                TimeUnit::Millisecond => (
                    DuckTimeUnit::Millisecond,
                    array.as_primitive::<TimestampMillisecondType>().value(row),
                ),
                TimeUnit::Microsecond => (
                    DuckTimeUnit::Microsecond,
                    array.as_primitive::<TimestampMicrosecondType>().value(row),
                ),
                TimeUnit::Nanosecond => (
                    DuckTimeUnit::Nanosecond,
                    array.as_primitive::<TimestampNanosecondType>().value(row),
                ),
            };
            Value::Timestamp(unit, value)
        }
        DataType::Time32(TimeUnit::Second) => Value::Time64(
            DuckTimeUnit::Second,
            array.as_primitive::<Time32SecondType>().value(row) as i64,
        ),
        DataType::Time32(TimeUnit::Millisecond) => Value::Time64(
            DuckTimeUnit::Millisecond,
            array.as_primitive::<Time32MillisecondType>().value(row) as i64,
        ),
        DataType::Time64(TimeUnit::Microsecond) => Value::Time64(
            DuckTimeUnit::Microsecond,
            array.as_primitive::<Time64MicrosecondType>().value(row),
        ),
        DataType::Time64(TimeUnit::Nanosecond) => Value::Time64(
            DuckTimeUnit::Nanosecond,
            array.as_primitive::<Time64NanosecondType>().value(row),
        ),
        DataType::Decimal128(_, scale) => {
            // Bound as exact text; DuckDB casts it to the parameter's DECIMAL type.
            let raw = array.as_primitive::<Decimal128Type>().value(row);
            Value::Text(Decimal128Type::format_decimal(raw, 38, *scale))
        }
        DataType::Decimal256(_, scale) => {
            let raw = array.as_primitive::<Decimal256Type>().value(row);
            Value::Text(Decimal256Type::format_decimal(raw, 76, *scale))
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            Value::Interval {
                months: v.months,
                days: v.days,
                nanos: v.nanoseconds,
            }
        }
        DataType::List(_) => {
            let list = array.as_list::<i32>().value(row);
            Value::List(
                (0..list.len())
                    .map(|i| value_at(&list, i))
                    .collect::<Result<_, _>>()?,
            )
        }
        DataType::LargeList(_) => {
            let list = array.as_list::<i64>().value(row);
            Value::List(
                (0..list.len())
                    .map(|i| value_at(&list, i))
                    .collect::<Result<_, _>>()?,
            )
        }
        DataType::Dictionary(_, _) => {
            let text = arrow::util::display::array_value_to_string(array, row)
                .map_err(|_| unsupported())?;
            Value::Text(text)
        }
        _ => return Err(unsupported()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn round_trips_through_ipc() {
        let batch = RecordBatch::try_from_iter([
            (
                "a",
                Arc::new(Int64Array::from(vec![Some(1), None])) as ArrayRef,
            ),
            ("b", Arc::new(StringArray::from(vec!["x", "y"])) as ArrayRef),
        ])
        .unwrap();
        let rows = decode_parameters(&encode_parameters(&[batch]).unwrap()).unwrap();
        assert_eq!(
            rows,
            vec![
                vec![Value::BigInt(1), Value::Text("x".into())],
                vec![Value::Null, Value::Text("y".into())]
            ]
        );
    }

    #[test]
    fn garbage_is_a_bad_request() {
        assert!(matches!(
            decode_parameters(b"nope"),
            Err(ExecutorError::BadRequest(_))
        ));
        assert!(decode_parameters(b"").unwrap().is_empty());
    }
}
