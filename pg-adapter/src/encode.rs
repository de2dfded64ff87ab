//! Arrow → PostgreSQL: type mapping (OIDs, typmods) and value encoding in text and binary.
//!
//! Values are written straight into the `DataRow` buffer (length prefix + bytes) without an
//! intermediate Rust value per cell. The mapping widens where PostgreSQL has no exact type:
//! Arrow int8 → int2, uint16 → int4, uint32 → int8, uint64 → numeric; structs and maps → json;
//! lists → PostgreSQL arrays (nested lists and lists of structs → json).

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Decimal128Array, Float64Array, Int16Array, Int32Array,
    Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{
    DataType, Date32Type, Date64Type, Decimal128Type, Decimal256Type, DurationMicrosecondType,
    DurationMillisecondType, DurationNanosecondType, DurationSecondType, Field, Float16Type,
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, IntervalDayTimeType,
    IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType, Time32MillisecondType,
    Time32SecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
    TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow::error::ArrowError;
use bytes::{BufMut, BytesMut};
use pgwire::api::results::{FieldFormat, FieldInfo};
use pgwire::api::Type;
use pgwire::messages::data::DataRow;

use crate::epoch;
use crate::timezone::Zone;

/// The PostgreSQL type (and typmod) used to present an Arrow field.
pub(crate) fn pg_type(field: &Field) -> (Type, i32) {
    if field.extension_type_name() == Some("arrow.uuid")
        || field
            .metadata()
            .get(tavana_proto::SQL_TYPE_METADATA_KEY)
            .is_some_and(|sql_type| sql_type == "uuid")
    {
        return (Type::UUID, -1);
    }
    if matches!(field.extension_type_name(), Some("arrow.json")) {
        return (Type::JSON, -1);
    }
    pg_type_of(field.data_type())
}

fn pg_type_of(dt: &DataType) -> (Type, i32) {
    let t = match dt {
        DataType::Boolean => Type::BOOL,
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => Type::INT2,
        DataType::Int32 | DataType::UInt16 => Type::INT4,
        DataType::Int64 | DataType::UInt32 => Type::INT8,
        DataType::UInt64 => Type::NUMERIC,
        DataType::Float16 | DataType::Float32 => Type::FLOAT4,
        DataType::Float64 => Type::FLOAT8,
        DataType::Decimal32(p, s)
        | DataType::Decimal64(p, s)
        | DataType::Decimal128(p, s)
        | DataType::Decimal256(p, s) => {
            return (
                Type::NUMERIC,
                ((i32::from(*p) << 16) | (i32::from(*s) & 0xffff)) + 4,
            );
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Type::VARCHAR,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView => Type::BYTEA,
        DataType::FixedSizeBinary(16) => Type::UUID,
        DataType::FixedSizeBinary(_) => Type::BYTEA,
        DataType::Date32 | DataType::Date64 => Type::DATE,
        DataType::Time32(_) | DataType::Time64(_) => Type::TIME,
        DataType::Timestamp(_, None) => Type::TIMESTAMP,
        DataType::Timestamp(_, Some(_)) => Type::TIMESTAMPTZ,
        DataType::Interval(_) | DataType::Duration(_) => Type::INTERVAL,
        DataType::Dictionary(_, value) => return pg_type_of(value),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f) => list_type_of(f.data_type()),
        DataType::Struct(_) | DataType::Map(_, _) | DataType::Union(_, _) => Type::JSON,
        DataType::Null => Type::TEXT,
        _ => Type::TEXT,
    };
    (t, -1)
}

/// The PostgreSQL type of a list of `item`: an array type, or `json` for lists of nested
/// values. Strings and unsigned 32-bit integers (OIDs in the catalog emulation) take
/// PostgreSQL's own text[] and oid[]: asyncpg decodes only those two arrays without looking a
/// type up, and its type lookup query returns both; with any other type it would look that
/// one up too, forever.
pub(crate) fn list_type_of(item: &DataType) -> Type {
    match item {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Type::TEXT_ARRAY,
        DataType::UInt32 => Type::OID_ARRAY,
        item => match array_type_of(&pg_type_of(item).0) {
            Some(t) if !is_nested(item) => t,
            _ => Type::JSON,
        },
    }
}

fn is_nested(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(_, _)
            | DataType::Struct(_)
            | DataType::Map(_, _)
            | DataType::Union(_, _)
    )
}

/// The PostgreSQL array type whose elements are `elem`.
pub(crate) fn array_type_of(elem: &Type) -> Option<Type> {
    Some(match *elem {
        Type::BOOL => Type::BOOL_ARRAY,
        Type::INT2 => Type::INT2_ARRAY,
        Type::INT4 => Type::INT4_ARRAY,
        Type::INT8 => Type::INT8_ARRAY,
        Type::FLOAT4 => Type::FLOAT4_ARRAY,
        Type::FLOAT8 => Type::FLOAT8_ARRAY,
        Type::NUMERIC => Type::NUMERIC_ARRAY,
        Type::VARCHAR => Type::VARCHAR_ARRAY,
        Type::TEXT => Type::TEXT_ARRAY,
        Type::BYTEA => Type::BYTEA_ARRAY,
        Type::DATE => Type::DATE_ARRAY,
        Type::TIME => Type::TIME_ARRAY,
        Type::TIMESTAMP => Type::TIMESTAMP_ARRAY,
        Type::TIMESTAMPTZ => Type::TIMESTAMPTZ_ARRAY,
        Type::INTERVAL => Type::INTERVAL_ARRAY,
        Type::UUID => Type::UUID_ARRAY,
        Type::JSON => Type::JSON_ARRAY,
        Type::OID => Type::OID_ARRAY,
        _ => return None,
    })
}

/// `pg_type.typlen` of the types we emit.
fn type_size(t: &Type) -> i16 {
    match *t {
        Type::BOOL => 1,
        Type::INT2 => 2,
        Type::INT4 | Type::FLOAT4 | Type::DATE => 4,
        Type::INT8 | Type::FLOAT8 | Type::TIME | Type::TIMESTAMP | Type::TIMESTAMPTZ => 8,
        Type::INTERVAL | Type::UUID => 16,
        _ => -1,
    }
}

/// The PostgreSQL description of a result schema, with per-column formats.
pub(crate) fn field_infos(
    schema: &arrow::datatypes::Schema,
    format: impl Fn(usize) -> FieldFormat,
) -> Vec<FieldInfo> {
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (t, typmod) = pg_type(f);
            let size = type_size(&t);
            FieldInfo::new(pg_column_name(f.name()), None, None, t, format(i))
                .with_type_size(size)
                .with_type_modifier(typmod)
        })
        .collect()
}

/// The name PostgreSQL would give a result column that DuckDB named after its expression, so
/// clients that read columns by name (`rs.getString("current_schema")`, a DataFrame's columns)
/// find them. DuckDB names an unaliased column by rendering its expression; PostgreSQL names it
/// after the function called (`count(*)` is `count`, not `count_star()`; `row_number() OVER
/// (...)` is `row_number`), the column or function under a cast, else the type cast to (`'x'::text`
/// is `text`), `case` for CASE, and `?column?` for operators and string literals. Only renderings
/// DuckDB makes are renamed: other names, aliases and real column names included, are kept (a
/// bare number or `NULL` too, as a Parquet column may be called `2024`).
pub(crate) fn pg_column_name(name: &str) -> String {
    match figure_column_name(name) {
        Some((figured, _)) => figured,
        None => name.to_owned(),
    }
}

/// How sure a figured name is, ranked as PostgreSQL ranks them: under a cast, a column's or
/// function's name beats the type's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameStrength {
    /// `?column?`: an operator or a literal.
    Unnamed,
    /// A type's name (a cast of something unnamed), or `case`.
    Type,
    /// A column's or a function's name.
    Named,
}

/// The name PostgreSQL gives the expression DuckDB rendered as `text`, and how sure it is;
/// `None` when `text` is not one of DuckDB's renderings (it may be a real column's name).
fn figure_column_name(text: &str) -> Option<(String, NameStrength)> {
    use NameStrength::*;
    if let Some((function, args)) = function_call(text) {
        if function == "pg_compat_session_value" {
            // `pg_compat_session_value('current_user', ...)`: named by its first argument.
            if let Some((named, _)) = args.strip_prefix('\'').and_then(|r| r.split_once('\'')) {
                return Some((named.to_owned(), Named));
            }
        }
        if function == "cast" || function == "try_cast" {
            let (expression, type_name) = split_top_level(args, " AS ")?;
            let type_name = type_name.trim_matches('"');
            // What the adapter's rewrites cast: `'\x41'::bytea` is `unhex('41')` as a BLOB,
            // `to_date(..)` and `to_timestamp(..)` are `strptime(..)` as a DATE / TIMESTAMPTZ.
            match function_call(expression) {
                Some((inner, inner_args))
                    if inner == "unhex" && is_string_literal(inner_args.trim()) =>
                {
                    return Some(("bytea".to_owned(), Type));
                }
                // `'{1,2}'::int[]` is a list of the literal's elements.
                Some((inner, _)) if inner == "list_value" => {
                    return Some((pg_type_name(type_name.trim_end_matches("[]")), Type));
                }
                Some((inner, _)) if inner == "strptime" && type_name == "DATE" => {
                    return Some(("to_date".to_owned(), Named));
                }
                Some((inner, _))
                    if inner == "strptime" && type_name == "TIMESTAMP WITH TIME ZONE" =>
                {
                    return Some(("to_timestamp".to_owned(), Named));
                }
                _ => {}
            }
            return Some(match figure_column_name(expression) {
                Some((name, Named)) => (name, Named),
                None if is_column_reference(expression) => (column_name(expression), Named),
                _ => (pg_type_name(type_name), Type),
            });
        }
        // DuckDB's names for what PostgreSQL calls otherwise, and the executor's macros the
        // adapter calls instead of DuckDB's functions (see rewrite.rs). Only names PostgreSQL
        // lacks are renamed, and `unnest`/`lower` around calls only the rewrites make, so a
        // call a client wrote keeps its name.
        let function = match function.as_str() {
            "count_star" => "count".to_owned(),
            "trim" => "btrim".to_owned(),
            "pg_compat_octet_length" => "octet_length".to_owned(),
            "pg_compat_date_trunc" => "date_trunc".to_owned(),
            "pg_compat_cardinality" => "cardinality".to_owned(),
            // `percentile_cont(0.5) WITHIN GROUP (ORDER BY x)` is `quantile_cont(0.5 ORDER BY
            // x)`; DuckDB's own `quantile_cont(x, 0.5)` keeps its name.
            "quantile_cont" | "quantile_disc" if split_top_level(args, " ORDER BY ").is_some() => {
                function.replacen("quantile", "percentile", 1)
            }
            // `x ~ 'a'` and `x SIMILAR TO 'a%'`: operators.
            "regexp_full_match" => return Some(("?column?".to_owned(), Unnamed)),
            // `x LIKE ANY (ARRAY[...])` (see rewrite.rs's `like_any`).
            "list_bool_or" | "list_bool_and" if args.contains("pg_compat_pattern") => {
                return Some(("?column?".to_owned(), Unnamed))
            }
            "strftime" => "to_char".to_owned(),
            // `generate_series(..)` in a select list is `unnest(generate_series(..))`, and so
            // are the JSON set-returning functions (see rewrite.rs).
            "unnest" => match function_call(args) {
                Some((inner, _))
                    if inner == "generate_series"
                        || crate::rewrite::LIST_RETURNING_FUNCTIONS.contains(&inner.as_str()) =>
                {
                    inner
                }
                _ => function,
            },
            "pg_compat_typeof" => "pg_typeof".to_owned(),
            // `sha256(x)` is `unhex(sha256(x))`, `decode(x, 'hex')` is `unhex(x)`.
            "unhex" => match function_call(args) {
                Some((inner, _)) if inner == "sha256" => inner,
                _ => "decode".to_owned(),
            },
            // `encode(x, 'hex')` is `lower(hex(x))`, `to_hex(n)` is `lower(to_hex(n))`.
            "lower" => match function_call(args) {
                Some((inner, _)) if inner == "hex" => "encode".to_owned(),
                Some((inner, _)) if inner == "to_hex" => inner,
                _ => function,
            },
            "to_base64" => "encode".to_owned(),
            "from_base64" => "decode".to_owned(),
            _ => function,
        };
        return Some((function, Named));
    }
    // `ARRAY[1, 2]`, as DuckDB renders it.
    if text.starts_with("(ARRAY[") && closing_paren(text, 0) == Some(text.len() - 1) {
        return Some(("array".to_owned(), Type));
    }
    // A subscript (`a[1]`, `a[1:2]`, `(ARRAY[1, 2])[1]`) is named after what it subscripts.
    if let Some(open) = trailing_subscript(text) {
        let base = &text[..open];
        if is_column_reference(base) {
            return Some((column_name(base), Named));
        }
        return figure_column_name(base);
    }
    if text.starts_with("CASE ") && text.ends_with(" END") {
        return Some(("case".to_owned(), Type));
    }
    // `(a + b)`, and `-(x)` for a unary minus.
    let wrapped_operator = (text.starts_with('(')
        && closing_paren(text, 0) == Some(text.len() - 1)
        && text.contains(' '))
        || (text.starts_with("-(") && closing_paren(text, 1) == Some(text.len() - 1));
    // A prefix operator DuckDB calls as a function named after it (`|/(25)`, `||/(27)`).
    let prefix_operator = text.find('(').is_some_and(|open| {
        open > 0
            && text[..open]
                .chars()
                .all(|c| "+-*/<>=~!@#%^&|`?".contains(c))
            && closing_paren(text, open) == Some(text.len() - 1)
    });
    if wrapped_operator || prefix_operator || is_string_literal(text) {
        return Some(("?column?".to_owned(), Unnamed));
    }
    None
}

/// `name(args)` spanning all of `text`, also with DuckDB's `OVER (...)`, `FILTER (...)` or
/// `WITHIN GROUP (...)` after it: the function's name (lower case, without schema or quotes)
/// and its arguments.
fn function_call(text: &str) -> Option<(String, &str)> {
    let open = text.find('(')?;
    let close = closing_paren(text, open)?;
    let rest = &text[close + 1..];
    if !(rest.is_empty()
        || rest.starts_with(" OVER (")
        || rest.starts_with(" FILTER (")
        || rest.starts_with(" WITHIN GROUP ("))
    {
        return None;
    }
    let path = &text[..open];
    let parts: Vec<&str> = path.split('.').collect();
    if !parts.iter().all(|part| is_identifier(part)) {
        return None;
    }
    let function = parts.last()?.trim_matches('"').to_ascii_lowercase();
    Some((function, &text[open + 1..close]))
}

/// The column a reference names (`t."My Col"` is `My Col`).
fn column_name(reference: &str) -> String {
    reference
        .rsplit('.')
        .next()
        .unwrap_or(reference)
        .trim_matches('"')
        .to_owned()
}

/// The byte index of the `[` opening a subscript that ends `text` (`a[1]`, `f(x)[1:2]`), if
/// `text` ends with one and something precedes it (quotes respected).
fn trailing_subscript(text: &str) -> Option<usize> {
    if !text.ends_with(']') {
        return None;
    }
    let mut opens = Vec::new();
    let mut last_closed = None;
    for (i, c) in unquoted_chars(text) {
        match c {
            '[' => opens.push(i),
            ']' => last_closed = Some((opens.pop()?, i)),
            _ => {}
        }
    }
    match last_closed {
        Some((open, close)) if close == text.len() - 1 && open > 0 => Some(open),
        _ => None,
    }
}

/// Whether `part` is an identifier as DuckDB renders one: a plain word, or double-quoted.
fn is_identifier(part: &str) -> bool {
    if let Some(quoted) = part.strip_prefix('"').and_then(|p| p.strip_suffix('"')) {
        return !quoted.is_empty() && !quoted.replace("\"\"", "").contains('"');
    }
    let mut chars = part.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// Whether `text` is a column reference as DuckDB renders one (`x`, `t.x`, `"My Col"`).
fn is_column_reference(text: &str) -> bool {
    !text.eq_ignore_ascii_case("null")
        && !text.eq_ignore_ascii_case("true")
        && !text.eq_ignore_ascii_case("false")
        && text.split('.').all(is_identifier)
}

/// Whether `text` is one single-quoted string literal.
fn is_string_literal(text: &str) -> bool {
    text.len() >= 2
        && text.starts_with('\'')
        && text.ends_with('\'')
        && !text[1..text.len() - 1].replace("''", "").contains('\'')
}

/// The name PostgreSQL gives a cast to DuckDB's `type_name` (as DuckDB renders it): the
/// PostgreSQL type's internal name (`int4`, `float8`, ...).
fn pg_type_name(type_name: &str) -> String {
    let name = type_name.trim_matches('"');
    let upper = name.to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or(&upper);
    match base {
        "INTEGER" | "INT" | "INT4" => "int4",
        "BIGINT" | "INT8" => "int8",
        "SMALLINT" | "INT2" | "TINYINT" => "int2",
        "BOOLEAN" | "BOOL" => "bool",
        "DOUBLE" | "FLOAT8" => "float8",
        "FLOAT" | "REAL" | "FLOAT4" => "float4",
        "DECIMAL" | "NUMERIC" => "numeric",
        // `::text` and `::varchar` are both rendered VARCHAR; only a length tells them apart.
        "VARCHAR" if upper.contains('(') => "varchar",
        "VARCHAR" | "TEXT" => "text",
        "TIMESTAMP WITH TIME ZONE" | "TIMESTAMPTZ" => "timestamptz",
        "TIME WITH TIME ZONE" | "TIMETZ" => "timetz",
        "BLOB" | "BYTEA" => "bytea",
        _ => return name.to_ascii_lowercase(),
    }
    .to_owned()
}

/// The characters of `text` outside single- and double-quoted parts, with their byte index
/// (DuckDB renders `'it''s'` and `"a""b"`: a doubled quote closes and opens again).
fn unquoted_chars(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut quote: Option<char> = None;
    text.char_indices().filter(move |&(_, c)| match quote {
        Some(q) => {
            if c == q {
                quote = None;
            }
            false
        }
        None if c == '\'' || c == '"' => {
            quote = Some(c);
            false
        }
        None => true,
    })
}

/// The index of the parenthesis closing the one at byte `open` of `text` (quotes respected).
fn closing_paren(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in unquoted_chars(&text[open..]) {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

/// `text` split at the last `separator` outside parentheses and quotes.
fn split_top_level<'a>(text: &'a str, separator: &str) -> Option<(&'a str, &'a str)> {
    let mut depth = 0usize;
    let mut found = None;
    for (i, c) in unquoted_chars(text) {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 && text[i..].starts_with(separator) => found = Some(i),
            _ => {}
        }
    }
    found.map(|i| (&text[..i], &text[i + separator.len()..]))
}

/// One column of a batch, downcast once so that writing each of its cells costs no dynamic
/// dispatch or type comparison. The common types of wide results have their own variant; every
/// other column goes through the general `write_text` / `write_binary`. Each variant writes the
/// same bytes the general path would.
pub(crate) enum ColumnCells<'a> {
    Int16(&'a Int16Array),
    Int32(&'a Int32Array),
    Int64(&'a Int64Array),
    Float64(&'a Float64Array),
    Decimal128(&'a Decimal128Array, i8),
    /// Strings sent as they are: text format, or binary `text`/`varchar`.
    Utf8(&'a StringArray),
    Date32(&'a Date32Array),
    Other(&'a ArrayRef, Type),
}

impl<'a> ColumnCells<'a> {
    /// `array` presented as `pg` in `format` (the RowDescription's type and format).
    pub(crate) fn new(array: &'a ArrayRef, pg: &Type, format: FieldFormat) -> Self {
        let binary = format == FieldFormat::Binary;
        // In binary the wire type must be the one the fast path writes.
        let binary_matches = |wanted: &Type| !binary || pg == wanted;
        match array.data_type() {
            DataType::Int16 if binary_matches(&Type::INT2) => {
                Self::Int16(array.as_primitive::<Int16Type>())
            }
            DataType::Int32 if binary_matches(&Type::INT4) => {
                Self::Int32(array.as_primitive::<Int32Type>())
            }
            DataType::Int64 if binary_matches(&Type::INT8) => {
                Self::Int64(array.as_primitive::<Int64Type>())
            }
            DataType::Float64 if binary_matches(&Type::FLOAT8) => {
                Self::Float64(array.as_primitive::<Float64Type>())
            }
            DataType::Decimal128(_, scale) if binary_matches(&Type::NUMERIC) => {
                Self::Decimal128(array.as_primitive::<Decimal128Type>(), *scale)
            }
            DataType::Utf8 if !binary || pg == &Type::TEXT || pg == &Type::VARCHAR => {
                Self::Utf8(array.as_string::<i32>())
            }
            DataType::Date32 if binary_matches(&Type::DATE) => {
                Self::Date32(array.as_primitive::<Date32Type>())
            }
            _ => Self::Other(array, pg.clone()),
        }
    }

    /// Whether the cell at `row` is NULL.
    pub(crate) fn is_null(&self, row: usize) -> bool {
        match self {
            Self::Int16(a) => a.is_null(row),
            Self::Int32(a) => a.is_null(row),
            Self::Int64(a) => a.is_null(row),
            Self::Float64(a) => a.is_null(row),
            Self::Decimal128(a, _) => a.is_null(row),
            Self::Utf8(a) => a.is_null(row),
            Self::Date32(a) => a.is_null(row),
            Self::Other(a, _) => a.is_null(row),
        }
    }

    /// Writes the text form of the non-null cell at `row`.
    pub(crate) fn write_text(&self, buf: &mut BytesMut, row: usize, zone: &Zone) {
        match self {
            Self::Int16(a) => put_int(buf, a.value(row)),
            Self::Int32(a) => put_int(buf, a.value(row)),
            Self::Int64(a) => put_int(buf, a.value(row)),
            Self::Decimal128(a, scale) => put_decimal128(buf, a.value(row), *scale),
            Self::Utf8(a) => buf.put_slice(a.value(row).as_bytes()),
            Self::Date32(a) => date_text(&mut Writer(buf), a.value(row)),
            Self::Float64(a) => write_float(&mut Writer(buf), a.value(row), 15),
            Self::Other(array, _) => write_text(buf, array, row, zone),
        }
    }

    /// Writes the binary form of the non-null cell at `row`.
    pub(crate) fn write_binary(&self, buf: &mut BytesMut, row: usize, zone: &Zone) {
        match self {
            Self::Int16(a) => buf.put_i16(a.value(row)),
            Self::Int32(a) => buf.put_i32(a.value(row)),
            Self::Int64(a) => buf.put_i64(a.value(row)),
            Self::Float64(a) => buf.put_f64(a.value(row)),
            Self::Decimal128(a, scale) => {
                if !numeric_binary_decimal128(buf, a.value(row), *scale) {
                    let mut text = BytesMut::new();
                    put_decimal128(&mut text, a.value(row), *scale);
                    numeric_binary(buf, std::str::from_utf8(&text).unwrap_or("0"));
                }
            }
            Self::Utf8(a) => buf.put_slice(a.value(row).as_bytes()),
            Self::Date32(a) => buf.put_i32(epoch::pg_days(a.value(row))),
            Self::Other(array, pg) => write_binary(buf, array, row, pg, zone),
        }
    }

    /// Writes one length-prefixed `DataRow` cell (-1 for NULL) in `format`.
    pub(crate) fn write_cell(
        &self,
        buf: &mut BytesMut,
        row: usize,
        format: FieldFormat,
        zone: &Zone,
    ) {
        if self.is_null(row) {
            buf.put_i32(-1);
            return;
        }
        let len_at = buf.len();
        buf.put_i32(0);
        match format {
            FieldFormat::Text => self.write_text(buf, row, zone),
            FieldFormat::Binary => self.write_binary(buf, row, zone),
        }
        let len = (buf.len() - len_at - 4) as i32;
        buf[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
    }
}

/// Encodes record batches into `DataRow`s for a fixed RowDescription.
pub(crate) struct RowEncoder {
    fields: Arc<Vec<FieldInfo>>,
    /// The Arrow type each column was described with; batches are cast to it when the
    /// executed statement's types differ from the prepared description.
    described: Option<Vec<DataType>>,
    /// The session's TimeZone (timestamptz text output).
    zone: Zone,
}

impl RowEncoder {
    pub(crate) fn new(
        fields: Arc<Vec<FieldInfo>>,
        described: Option<Vec<DataType>>,
        zone: Zone,
    ) -> Self {
        Self {
            fields,
            described,
            zone,
        }
    }

    /// Encodes every row of `batch`.
    pub(crate) fn encode(&self, batch: &RecordBatch) -> Result<Vec<DataRow>, ArrowError> {
        let columns = self.prepare_columns(batch)?;
        let cells: Vec<ColumnCells<'_>> = columns
            .iter()
            .zip(self.fields.iter())
            .map(|(col, field)| ColumnCells::new(col, field.datatype(), field.format()))
            .collect();
        let mut rows = Vec::with_capacity(batch.num_rows());
        // Rows are split off one shared allocation; when it fills, `BytesMut` allocates the
        // same size again (64 KiB), not one small buffer per row.
        let mut buf = BytesMut::with_capacity(64 * 1024);
        for row in 0..batch.num_rows() {
            for (column, field) in cells.iter().zip(self.fields.iter()) {
                column.write_cell(&mut buf, row, field.format(), &self.zone);
            }
            rows.push(DataRow::new(buf.split(), columns.len() as i16));
        }
        Ok(rows)
    }

    fn prepare_columns(&self, batch: &RecordBatch) -> Result<Vec<ArrayRef>, ArrowError> {
        if batch.num_columns() != self.fields.len() {
            return Err(ArrowError::SchemaError(format!(
                "result has {} columns but {} were described",
                batch.num_columns(),
                self.fields.len()
            )));
        }
        batch
            .columns()
            .iter()
            .enumerate()
            .map(|(i, col)| {
                let target = match &self.described {
                    Some(types) if types[i] != *col.data_type() && types[i] != DataType::Null => {
                        Some(types[i].clone())
                    }
                    _ => None,
                };
                let col = match (target, col.data_type()) {
                    (Some(t), _) => arrow::compute::cast(col, &t)
                        .or_else(|_| arrow::compute::cast(col, &DataType::Utf8))?,
                    (None, DataType::Dictionary(_, value)) => arrow::compute::cast(col, value)?,
                    _ => Arc::clone(col),
                };
                Ok(col)
            })
            .collect()
    }
}

/// Writes one length-prefixed cell.
pub(crate) fn write_cell(
    buf: &mut BytesMut,
    array: &ArrayRef,
    row: usize,
    pg: &Type,
    format: FieldFormat,
    zone: &Zone,
) {
    ColumnCells::Other(array, pg.clone()).write_cell(buf, row, format, zone);
}

/// Text form of a non-null value (PostgreSQL output syntax).
pub(crate) fn write_text(buf: &mut BytesMut, array: &ArrayRef, row: usize, zone: &Zone) {
    let mut w = Writer(buf);
    let dt = array.data_type();
    match dt {
        DataType::Boolean => w.0.put_slice(if array.as_boolean().value(row) {
            b"t"
        } else {
            b"f"
        }),
        DataType::Int8 => put_int(w.0, array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => put_int(w.0, array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => put_int(w.0, array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => put_int(w.0, array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => put_int(w.0, array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => put_int(w.0, array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => put_int(w.0, array.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => put_int(w.0, array.as_primitive::<UInt64Type>().value(row)),
        DataType::Float16 => write_float(
            &mut w,
            f64::from(array.as_primitive::<Float16Type>().value(row).to_f32()),
            6,
        ),
        DataType::Float32 => write_float(
            &mut w,
            f64::from(array.as_primitive::<Float32Type>().value(row)),
            6,
        ),
        DataType::Float64 => {
            write_float(&mut w, array.as_primitive::<Float64Type>().value(row), 15)
        }
        DataType::Decimal128(_, s) => {
            put_decimal128(w.0, array.as_primitive::<Decimal128Type>().value(row), *s)
        }
        DataType::Decimal256(_, s) => {
            let v = array.as_primitive::<Decimal256Type>().value(row);
            w.0.put_slice(decimal_text(&v.to_string(), *s).as_bytes());
        }
        DataType::Utf8 => {
            w.0.put_slice(array.as_string::<i32>().value(row).as_bytes())
        }
        DataType::LargeUtf8 => {
            w.0.put_slice(array.as_string::<i64>().value(row).as_bytes())
        }
        DataType::Utf8View => w.0.put_slice(array.as_string_view().value(row).as_bytes()),
        DataType::Binary => bytea_text(w.0, array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => bytea_text(w.0, array.as_binary::<i64>().value(row)),
        DataType::BinaryView => bytea_text(w.0, array.as_binary_view().value(row)),
        DataType::FixedSizeBinary(16) => uuid_text(w.0, array.as_fixed_size_binary().value(row)),
        DataType::FixedSizeBinary(_) => bytea_text(w.0, array.as_fixed_size_binary().value(row)),
        DataType::Date32 => date_text(&mut w, array.as_primitive::<Date32Type>().value(row)),
        DataType::Date64 => date_text(
            &mut w,
            (array.as_primitive::<Date64Type>().value(row) / 86_400_000) as i32,
        ),
        DataType::Time32(_) | DataType::Time64(_) => time_text(&mut w, time_micros(array, row)),
        DataType::Timestamp(_, None) => timestamp_text(&mut w, timestamp_micros(array, row)),
        DataType::Timestamp(_, Some(_)) => {
            // Shown in the session's zone, with that instant's offset, as PostgreSQL does.
            let micros = timestamp_micros(array, row);
            if micros == i64::MAX || micros <= -i64::MAX {
                // `infinity` has no zone.
                timestamp_text(&mut w, micros);
                return;
            }
            let offset = zone.offset_at(micros.div_euclid(1_000_000));
            timestamp_text(&mut w, micros.saturating_add(i64::from(offset) * 1_000_000));
            let mut text = String::with_capacity(9);
            crate::timezone::write_offset(&mut text, offset);
            w.0.put_slice(text.as_bytes());
        }
        DataType::Interval(_) | DataType::Duration(_) => {
            let (months, days, micros) = interval_parts(array, row);
            interval_text(&mut w, months, days, micros);
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
            if !matches!(pg_type_of(dt).0, Type::JSON) =>
        {
            array_text(w.0, &list_values(array, row), zone);
        }
        DataType::List(_)
        | DataType::LargeList(_)
        | DataType::FixedSizeList(_, _)
        | DataType::Struct(_)
        | DataType::Map(_, _)
        | DataType::Union(_, _) => {
            json_value(w.0, array, row, zone);
        }
        DataType::Dictionary(_, value) => match arrow::compute::cast(array, value) {
            Ok(values) => write_text(buf, &values, row, zone),
            Err(_) => fallback_text(buf, array, row),
        },
        _ => fallback_text(buf, array, row),
    }
}

struct Writer<'a>(&'a mut BytesMut);

impl std::fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.put_slice(s.as_bytes());
        Ok(())
    }
}

fn fallback_text(buf: &mut BytesMut, array: &ArrayRef, row: usize) {
    let options = arrow::util::display::FormatOptions::default();
    match arrow::util::display::ArrayFormatter::try_new(array.as_ref(), &options) {
        Ok(f) => buf.put_slice(f.value(row).to_string().as_bytes()),
        Err(_) => buf.put_slice(b"?"),
    }
}

/// PostgreSQL's float output (shortest round-trip digits, exponent outside [-4, digits)).
fn write_float(w: &mut Writer<'_>, v: f64, digits: i32) {
    use std::fmt::Write as _;
    if v.is_nan() {
        w.0.put_slice(b"NaN");
    } else if v.is_infinite() {
        w.0.put_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else if v == 0.0 {
        w.0.put_slice(if v.is_sign_negative() { b"-0" } else { b"0" });
    } else {
        // `{:e}` gives the shortest round-trip mantissa and exponent.
        let sci = if digits == 6 {
            format!("{:e}", v as f32)
        } else {
            format!("{v:e}")
        };
        let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        if exp < -4 || exp >= digits {
            let _ = write!(
                w,
                "{mantissa}e{}{:02}",
                if exp < 0 { '-' } else { '+' },
                exp.abs()
            );
        } else if digits == 6 {
            let _ = write!(w, "{}", v as f32);
        } else {
            let _ = write!(w, "{v}");
        }
    }
}

/// Appends an integer's decimal digits.
fn put_int(buf: &mut BytesMut, value: impl itoa::Integer) {
    buf.put_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// Appends a decimal128 value's text (`decimal_text` without the intermediate strings).
fn put_decimal128(buf: &mut BytesMut, value: i128, scale: i8) {
    if scale <= 0 {
        put_int(buf, value);
        if value != 0 {
            put_zeros(buf, scale.unsigned_abs() as usize);
        }
        return;
    }
    let mut digits = itoa::Buffer::new();
    // 128-bit formatting is much slower than 64-bit, and most decimals fit 64 bits.
    let digits = match u64::try_from(value.unsigned_abs()) {
        Ok(small) => digits.format(small),
        Err(_) => digits.format(value.unsigned_abs()),
    }
    .as_bytes();
    if value < 0 {
        buf.put_u8(b'-');
    }
    let scale = scale as usize;
    if digits.len() <= scale {
        buf.put_slice(b"0.");
        put_zeros(buf, scale - digits.len());
        buf.put_slice(digits);
    } else {
        let (int, frac) = digits.split_at(digits.len() - scale);
        buf.put_slice(int);
        buf.put_u8(b'.');
        buf.put_slice(frac);
    }
}

fn put_zeros(buf: &mut BytesMut, count: usize) {
    buf.put_bytes(b'0', count);
}

/// Appends `value` (< 10^width) as exactly `width` digits.
fn put_padded(buf: &mut BytesMut, value: u32, width: usize) {
    let mut digits = [b'0'; 6];
    write_digits(&mut digits[..width], value);
    buf.put_slice(&digits[..width]);
}

/// Appends `YYYY-MM-DD` of a day counted from 1970-01-01, for years 1 to 9999; `false`
/// (nothing written) for other days, which take the general formatter.
fn put_iso_date(buf: &mut BytesMut, days_since_epoch: i64) -> bool {
    // A large result has millions of dates, nearly all in the table's years: looked up, a date
    // costs about a tenth of computing it.
    if let Some(text) = usize::try_from(days_since_epoch - ISO_DATE_TABLE_FIRST_DAY)
        .ok()
        .and_then(|index| iso_date_table().get(index))
    {
        buf.put_slice(text);
        return true;
    }
    match iso_date(days_since_epoch) {
        Some(text) => {
            buf.put_slice(&text);
            true
        }
        None => false,
    }
}

/// 1900-01-01, the first day of the precomputed `YYYY-MM-DD` table (days from 1970-01-01).
const ISO_DATE_TABLE_FIRST_DAY: i64 = -25_567;
/// 2100-01-01, the day after the table's last.
const ISO_DATE_TABLE_END_DAY: i64 = 47_482;

/// `YYYY-MM-DD` of every day of 1900–2099 (730 KB, built on first use).
fn iso_date_table() -> &'static [[u8; 10]] {
    static TABLE: std::sync::OnceLock<Box<[[u8; 10]]>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        (ISO_DATE_TABLE_FIRST_DAY..ISO_DATE_TABLE_END_DAY)
            .map(|day| iso_date(day).unwrap_or(*b"0000-00-00"))
            .collect()
    })
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01, for years 1 to 9999.
fn iso_date(days_since_epoch: i64) -> Option<[u8; 10]> {
    // 0001-01-01 and 9999-12-31.
    if !(-719_162..=2_932_896).contains(&days_since_epoch) {
        return None;
    }
    let (year, month, day) = civil_from_days(days_since_epoch);
    let mut text = *b"0000-00-00";
    write_digits(&mut text[0..4], year as u32);
    write_digits(&mut text[5..7], month);
    write_digits(&mut text[8..10], day);
    Some(text)
}

/// Writes `value`'s last `out.len()` decimal digits into `out`, zero-padded.
fn write_digits(out: &mut [u8], mut value: u32) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// (year, month, day) of the proleptic Gregorian day `days` after 1970-01-01: the standard
/// era-based conversion (400-year cycles of 146,097 days, years counted from March).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Appends `HH:MM:SS` of a second of the day.
fn put_clock(buf: &mut BytesMut, second_of_day: u32) {
    put_padded(buf, second_of_day / 3600, 2);
    buf.put_u8(b':');
    put_padded(buf, (second_of_day / 60) % 60, 2);
    buf.put_u8(b':');
    put_padded(buf, second_of_day % 60, 2);
}

/// Places the decimal point into an integer's digits.
pub(crate) fn decimal_text(digits: &str, scale: i8) -> String {
    if scale <= 0 {
        let mut s = digits.to_owned();
        if digits != "0" {
            s.extend(std::iter::repeat_n('0', (-scale) as usize));
        }
        return s;
    }
    let (neg, abs) = match digits.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, digits),
    };
    let scale = scale as usize;
    let padded = if abs.len() <= scale {
        format!("{}{abs}", "0".repeat(scale + 1 - abs.len()))
    } else {
        abs.to_owned()
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{}{int}.{frac}", if neg { "-" } else { "" })
}

fn bytea_text(buf: &mut BytesMut, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.put_slice(b"\\x");
    for b in bytes {
        buf.put_u8(HEX[(b >> 4) as usize]);
        buf.put_u8(HEX[(b & 15) as usize]);
    }
}

fn uuid_text(buf: &mut BytesMut, bytes: &[u8]) {
    let s = uuid::Uuid::from_slice(bytes)
        .map(|u| u.hyphenated().to_string())
        .unwrap_or_default();
    buf.put_slice(s.as_bytes());
}

fn date_text(w: &mut Writer<'_>, days: i32) {
    use std::fmt::Write as _;
    if put_iso_date(w.0, i64::from(days)) {
        return;
    }
    let date = chrono::NaiveDate::from_num_days_from_ce_opt(days + 719_163);
    match date {
        Some(d) => {
            let _ = write!(w, "{}", d.format("%Y-%m-%d"));
        }
        None => {
            w.0.put_slice(if days > 0 { b"infinity" } else { b"-infinity" })
        }
    }
}

fn time_micros(array: &ArrayRef, row: usize) -> i64 {
    match array.data_type() {
        DataType::Time32(TimeUnit::Second) => {
            i64::from(array.as_primitive::<Time32SecondType>().value(row)) * 1_000_000
        }
        DataType::Time32(_) => {
            i64::from(array.as_primitive::<Time32MillisecondType>().value(row)) * 1_000
        }
        DataType::Time64(TimeUnit::Nanosecond) => {
            array.as_primitive::<Time64NanosecondType>().value(row) / 1_000
        }
        _ => array.as_primitive::<Time64MicrosecondType>().value(row),
    }
}

fn time_text(w: &mut Writer<'_>, micros: i64) {
    use std::fmt::Write as _;
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    if (0..100 * 3600).contains(&secs) {
        put_clock(w.0, secs as u32);
    } else {
        let _ = write!(
            w,
            "{:02}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        );
    }
    write_fraction(w, frac);
}

/// Appends `.ffffff` without trailing zeros; nothing for a whole second.
fn write_fraction(w: &mut Writer<'_>, frac: i64) {
    if frac != 0 {
        let mut frac = frac as u32;
        let mut width = 6;
        while frac.is_multiple_of(10) {
            frac /= 10;
            width -= 1;
        }
        w.0.put_u8(b'.');
        put_padded(w.0, frac, width);
    }
}

pub(crate) fn timestamp_micros(array: &ArrayRef, row: usize) -> i64 {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => array
            .as_primitive::<TimestampSecondType>()
            .value(row)
            .saturating_mul(1_000_000),
        DataType::Timestamp(TimeUnit::Millisecond, _) => array
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .saturating_mul(1_000),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            array.as_primitive::<TimestampNanosecondType>().value(row) / 1_000
        }
        _ => array.as_primitive::<TimestampMicrosecondType>().value(row),
    }
}

fn timestamp_text(w: &mut Writer<'_>, micros: i64) {
    use std::fmt::Write as _;
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(dt) => {
            if put_iso_date(w.0, secs.div_euclid(86_400)) {
                w.0.put_u8(b' ');
                put_clock(w.0, secs.rem_euclid(86_400) as u32);
            } else {
                let _ = write!(w, "{}", dt.naive_utc().format("%Y-%m-%d %H:%M:%S"));
            }
            write_fraction(w, frac);
        }
        None => w.0.put_slice(if micros > 0 {
            b"infinity"
        } else {
            b"-infinity"
        }),
    }
}

/// (months, days, microseconds) of an interval or duration value.
fn interval_parts(array: &ArrayRef, row: usize) -> (i32, i32, i64) {
    match array.data_type() {
        DataType::Interval(IntervalUnit::YearMonth) => (
            array.as_primitive::<IntervalYearMonthType>().value(row),
            0,
            0,
        ),
        DataType::Interval(IntervalUnit::DayTime) => {
            let v = array.as_primitive::<IntervalDayTimeType>().value(row);
            (0, v.days, i64::from(v.milliseconds) * 1_000)
        }
        DataType::Interval(IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive::<IntervalMonthDayNanoType>().value(row);
            (v.months, v.days, v.nanoseconds / 1_000)
        }
        DataType::Duration(TimeUnit::Second) => (
            0,
            0,
            array.as_primitive::<DurationSecondType>().value(row) * 1_000_000,
        ),
        DataType::Duration(TimeUnit::Millisecond) => (
            0,
            0,
            array.as_primitive::<DurationMillisecondType>().value(row) * 1_000,
        ),
        DataType::Duration(TimeUnit::Microsecond) => (
            0,
            0,
            array.as_primitive::<DurationMicrosecondType>().value(row),
        ),
        DataType::Duration(TimeUnit::Nanosecond) => (
            0,
            0,
            array.as_primitive::<DurationNanosecondType>().value(row) / 1_000,
        ),
        _ => (0, 0, 0),
    }
}

/// IntervalStyle `postgres`: `1 year 2 mons 3 days 04:05:06.5`.
fn interval_text(w: &mut Writer<'_>, months: i32, days: i32, micros: i64) {
    use std::fmt::Write as _;
    let mut parts: Vec<String> = Vec::new();
    let (years, mons) = (months / 12, months % 12);
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n.abs() == 1 { "" } else { "s" });
    if years != 0 {
        parts.push(plural(i64::from(years), "year"));
    }
    if mons != 0 {
        parts.push(plural(i64::from(mons), "mon"));
    }
    if days != 0 {
        parts.push(plural(i64::from(days), "day"));
    }
    if micros != 0 || parts.is_empty() {
        let sign = if micros < 0 { "-" } else { "" };
        let abs = micros.unsigned_abs() as i64;
        let secs = abs / 1_000_000;
        let mut t = format!(
            "{sign}{:02}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        );
        let frac = abs % 1_000_000;
        if frac != 0 {
            t.push('.');
            t.push_str(format!("{frac:06}").trim_end_matches('0'));
        }
        parts.push(t);
    }
    let _ = write!(w, "{}", parts.join(" "));
}

/// The element array and range of one list value.
fn list_values(array: &ArrayRef, row: usize) -> ArrayRef {
    match array.data_type() {
        DataType::List(_) => array.as_list::<i32>().value(row),
        DataType::LargeList(_) => array.as_list::<i64>().value(row),
        DataType::FixedSizeList(_, _) => array.as_fixed_size_list().value(row),
        _ => Arc::clone(array),
    }
}

/// PostgreSQL array literal: `{1,2,NULL,"a b"}`.
fn array_text(buf: &mut BytesMut, values: &ArrayRef, zone: &Zone) {
    buf.put_u8(b'{');
    let quote_strings = matches!(
        values.data_type(),
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    ) || matches!(
        values.data_type(),
        DataType::Timestamp(_, _) | DataType::Interval(_) | DataType::Duration(_)
    );
    for i in 0..values.len() {
        if i > 0 {
            buf.put_u8(b',');
        }
        if values.is_null(i) {
            buf.put_slice(b"NULL");
            continue;
        }
        let mut item = BytesMut::new();
        write_text(&mut item, values, i, zone);
        let needs_quotes = quote_strings
            && (item.is_empty()
                || item.eq_ignore_ascii_case(b"null")
                || item.iter().any(|c| {
                    matches!(c, b'{' | b'}' | b',' | b'"' | b'\\') || c.is_ascii_whitespace()
                }));
        if needs_quotes {
            buf.put_u8(b'"');
            for &c in item.iter() {
                if c == b'"' || c == b'\\' {
                    buf.put_u8(b'\\');
                }
                buf.put_u8(c);
            }
            buf.put_u8(b'"');
        } else {
            buf.put_slice(&item);
        }
    }
    buf.put_u8(b'}');
}

/// JSON text of a (possibly nested) value.
fn json_value(buf: &mut BytesMut, array: &ArrayRef, row: usize, zone: &Zone) {
    if array.is_null(row) {
        buf.put_slice(b"null");
        return;
    }
    match array.data_type() {
        DataType::Struct(fields) => {
            let s = array.as_struct();
            buf.put_u8(b'{');
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    buf.put_u8(b',');
                }
                json_string(buf, f.name());
                buf.put_u8(b':');
                json_value(buf, s.column(i), row, zone);
            }
            buf.put_u8(b'}');
        }
        DataType::Union(_, _) => {
            // The value of the member the row holds, as DuckDB shows a union.
            let union = array.as_union();
            let member = union.child(union.type_id(row));
            json_value(buf, member, union.value_offset(row), zone);
        }
        DataType::Map(_, _) => {
            let m = array.as_map();
            let entries = m.value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            buf.put_u8(b'{');
            for i in 0..entries.len() {
                if i > 0 {
                    buf.put_u8(b',');
                }
                let mut key = BytesMut::new();
                write_text(&mut key, keys, i, zone);
                json_string(buf, &String::from_utf8_lossy(&key));
                buf.put_u8(b':');
                json_value(buf, values, i, zone);
            }
            buf.put_u8(b'}');
        }
        DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _) => {
            let values = list_values(array, row);
            buf.put_u8(b'[');
            for i in 0..values.len() {
                if i > 0 {
                    buf.put_u8(b',');
                }
                json_value(buf, &values, i, zone);
            }
            buf.put_u8(b']');
        }
        DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => {
            let mut text = BytesMut::new();
            write_text(&mut text, array, row, zone);
            match &text[..] {
                b"t" => buf.put_slice(b"true"),
                b"f" => buf.put_slice(b"false"),
                other => buf.put_slice(other),
            }
        }
        DataType::Float32 | DataType::Float64 => {
            let mut text = BytesMut::new();
            write_text(&mut text, array, row, zone);
            if text
                .iter()
                .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'.' | b'e' | b'+'))
            {
                buf.put_slice(&text);
            } else {
                json_string(buf, &String::from_utf8_lossy(&text));
            }
        }
        _ => {
            let mut text = BytesMut::new();
            write_text(&mut text, array, row, zone);
            json_string(buf, &String::from_utf8_lossy(&text));
        }
    }
}

fn json_string(buf: &mut BytesMut, s: &str) {
    buf.put_slice(serde_json::to_string(s).unwrap_or_default().as_bytes());
}

/// Binary form of a non-null value for PostgreSQL type `pg`.
fn write_binary(buf: &mut BytesMut, array: &ArrayRef, row: usize, pg: &Type, zone: &Zone) {
    let dt = array.data_type();
    match *pg {
        Type::BOOL => buf.put_u8(u8::from(array.as_boolean().value(row))),
        Type::INT2 => buf.put_i16(int_value(array, row) as i16),
        Type::INT4 => buf.put_i32(int_value(array, row) as i32),
        Type::INT8 => buf.put_i64(int_value(array, row) as i64),
        Type::OID => buf.put_u32(int_value(array, row) as u32),
        Type::FLOAT4 => buf.put_f32(match dt {
            DataType::Float16 => array.as_primitive::<Float16Type>().value(row).to_f32(),
            _ => array.as_primitive::<Float32Type>().value(row),
        }),
        Type::FLOAT8 => buf.put_f64(array.as_primitive::<Float64Type>().value(row)),
        Type::NUMERIC => {
            let direct = match dt {
                DataType::Decimal128(_, scale) => numeric_binary_decimal128(
                    buf,
                    array.as_primitive::<Decimal128Type>().value(row),
                    *scale,
                ),
                _ => false,
            };
            if !direct {
                let mut text = BytesMut::new();
                write_text(&mut text, array, row, zone);
                numeric_binary(buf, std::str::from_utf8(&text).unwrap_or("0"));
            }
        }
        Type::DATE => buf.put_i32(epoch::pg_days(match dt {
            DataType::Date64 => (array.as_primitive::<Date64Type>().value(row) / 86_400_000) as i32,
            _ => array.as_primitive::<Date32Type>().value(row),
        })),
        Type::TIME => buf.put_i64(time_micros(array, row)),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            buf.put_i64(epoch::pg_micros(timestamp_micros(array, row)))
        }
        Type::INTERVAL => {
            let (months, days, micros) = interval_parts(array, row);
            buf.put_i64(micros);
            buf.put_i32(days);
            buf.put_i32(months);
        }
        Type::UUID => match dt {
            DataType::FixedSizeBinary(16) => buf.put_slice(array.as_fixed_size_binary().value(row)),
            _ => {
                let mut text = BytesMut::new();
                write_text(&mut text, array, row, zone);
                let parsed = uuid::Uuid::parse_str(std::str::from_utf8(&text).unwrap_or_default())
                    .unwrap_or_default();
                buf.put_slice(parsed.as_bytes());
            }
        },
        Type::BYTEA => match dt {
            DataType::Binary => buf.put_slice(array.as_binary::<i32>().value(row)),
            DataType::LargeBinary => buf.put_slice(array.as_binary::<i64>().value(row)),
            DataType::BinaryView => buf.put_slice(array.as_binary_view().value(row)),
            DataType::FixedSizeBinary(_) => buf.put_slice(array.as_fixed_size_binary().value(row)),
            _ => write_text(buf, array, row, zone),
        },
        // The cheap Arrow check first: `array_element` compares against every array type.
        ref t
            if matches!(
                dt,
                DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _)
            ) && array_element(t).is_some() =>
        {
            let elem = array_element(t).unwrap_or(Type::TEXT);
            let values = list_values(array, row);
            buf.put_i32(1); // ndim
            buf.put_i32(i32::from(values.null_count() > 0));
            buf.put_u32(elem.oid());
            buf.put_i32(values.len() as i32);
            buf.put_i32(1); // lower bound
            for i in 0..values.len() {
                write_cell(buf, &values, i, &elem, FieldFormat::Binary, zone);
            }
        }
        // text, varchar, json and everything presented as text: the binary form is the text.
        _ => write_text(buf, array, row, zone),
    }
}

fn array_element(t: &Type) -> Option<Type> {
    [
        Type::BOOL,
        Type::INT2,
        Type::INT4,
        Type::INT8,
        Type::FLOAT4,
        Type::FLOAT8,
        Type::NUMERIC,
        Type::VARCHAR,
        Type::TEXT,
        Type::BYTEA,
        Type::DATE,
        Type::TIME,
        Type::TIMESTAMP,
        Type::TIMESTAMPTZ,
        Type::INTERVAL,
        Type::UUID,
        Type::JSON,
        Type::OID,
    ]
    .into_iter()
    .find(|e| array_type_of(e).as_ref() == Some(t))
}

fn int_value(array: &ArrayRef, row: usize) -> i128 {
    match array.data_type() {
        DataType::Int8 => i128::from(array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => i128::from(array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => i128::from(array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => i128::from(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => i128::from(array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => i128::from(array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => i128::from(array.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => i128::from(array.as_primitive::<UInt64Type>().value(row)),
        _ => 0,
    }
}

/// PostgreSQL binary `numeric`: base-10000 digits with weight, sign and display scale.
/// PostgreSQL's binary numeric straight from a decimal128 (`numeric_binary` without going
/// through text). `false`, with nothing written, for the rare values whose digits do not fit
/// the arithmetic here (negative scales, 38-digit fractions); those take the text path.
fn numeric_binary_decimal128(buf: &mut BytesMut, value: i128, scale: i8) -> bool {
    const GROUP: u128 = 10_000;
    if !(0..=38).contains(&scale) {
        return false;
    }
    let scale = scale as u32;
    let abs = value.unsigned_abs();
    let unit = 10u128.pow(scale);
    // 128-bit division is a library call; most decimals fit 64 bits.
    let (int, frac) = match (u64::try_from(abs), u64::try_from(unit)) {
        (Ok(abs), Ok(unit)) => (u128::from(abs / unit), u128::from(abs % unit)),
        _ => (abs / unit, abs % unit),
    };
    let frac_groups = scale.div_ceil(4);
    let Some(frac) = frac.checked_mul(10u128.pow(frac_groups * 4 - scale)) else {
        return false;
    };
    // Base-10000 digits, least significant first: the fraction's groups, then the integer's.
    let mut groups = [0i16; 20];
    let mut len = 0;
    let mut push = |mut rest: u128, at_least: u32| {
        let mut pushed = 0u32;
        while rest > 0 || pushed < at_least {
            (groups[len], rest) = match u64::try_from(rest) {
                Ok(small) => ((small % 10_000) as i16, u128::from(small / 10_000)),
                Err(_) => ((rest % GROUP) as i16, rest / GROUP),
            };
            len += 1;
            pushed += 1;
        }
        pushed as i16
    };
    push(frac, frac_groups);
    let int_groups = push(int, 0);
    // Most significant first, without leading or trailing zero groups.
    let digits = &mut groups[..len];
    digits.reverse();
    let leading = digits.iter().take_while(|&&d| d == 0).count();
    let trailing = digits[leading..]
        .iter()
        .rev()
        .take_while(|&&d| d == 0)
        .count();
    let digits = &digits[leading..digits.len() - trailing];
    let weight = if digits.is_empty() {
        0
    } else {
        int_groups - 1 - leading as i16
    };
    buf.put_i16(digits.len() as i16);
    buf.put_i16(weight);
    buf.put_u16(if value < 0 && !digits.is_empty() {
        0x4000
    } else {
        0
    });
    buf.put_i16(scale as i16);
    for &digit in digits {
        buf.put_i16(digit);
    }
    true
}

pub(crate) fn numeric_binary(buf: &mut BytesMut, text: &str) {
    let (neg, abs) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if abs.eq_ignore_ascii_case("nan") {
        buf.put_i16(0);
        buf.put_i16(0);
        buf.put_u16(0xC000);
        buf.put_i16(0);
        return;
    }
    let (int, frac) = abs.split_once('.').unwrap_or((abs, ""));
    let dscale = frac.len() as i16;
    let int = int.trim_start_matches('0');
    // Pad the integer part on the left and the fraction on the right to multiples of 4.
    let int_pad = (4 - int.len() % 4) % 4;
    let frac_pad = (4 - frac.len() % 4) % 4;
    let digits_str = format!("{}{int}{frac}{}", "0".repeat(int_pad), "0".repeat(frac_pad));
    let mut digits: Vec<i16> = digits_str
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0i16, |acc, d| acc * 10 + i16::from(d - b'0')))
        .collect();
    let mut weight = ((int.len() + int_pad) / 4) as i16 - 1;
    // strip leading zero groups (only possible when the integer part is empty)
    while digits.first() == Some(&0) {
        digits.remove(0);
        weight -= 1;
    }
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if digits.is_empty() {
        weight = 0;
    }
    buf.put_i16(digits.len() as i16);
    buf.put_i16(weight);
    buf.put_u16(if neg && !digits.is_empty() { 0x4000 } else { 0 });
    buf.put_i16(dscale);
    for d in digits {
        buf.put_i16(d);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn function_columns_get_postgresql_names() {
        for (duckdb, pg) in [
            ("count_star()", "count"),
            ("sum(i)", "sum"),
            ("main.current_schema()", "current_schema"),
            ("COUNT(DISTINCT x)", "count"),
            ("coalesce(a, ')')", "coalesce"),
            ("CAST(1 AS INTEGER)", "int4"),
            ("CAST(x AS INTEGER)", "x"),
            ("CAST(t.\"My Col\" AS VARCHAR)", "My Col"),
            ("CAST(now() AS \"DATE\")", "now"),
            ("CAST('1 day' AS INTERVAL)", "interval"),
            ("CAST('Infinity' AS \"DOUBLE\")", "float8"),
            ("CAST(1.5 AS DECIMAL(18,3))", "numeric"),
            ("CAST(CAST(1 AS VARCHAR) AS \"json\")", "json"),
            ("TRY_CAST('a b' AS INTEGER)", "int4"),
            ("(f(a) + g(b))", "?column?"),
            ("(1 IN (1, 2))", "?column?"),
            ("'it''s'", "?column?"),
            ("'a' || 'b'", "'a' || 'b'"),
            ("\"nullif\"(1, 1)", "nullif"),
            ("main.\"position\"('abc', 'b')", "position"),
            ("row_number() OVER (ORDER BY x)", "row_number"),
            ("count_star() FILTER (WHERE (x > 1))", "count"),
            ("sum(x) FILTER (WHERE (x > 1)) OVER ()", "sum"),
            ("CASE  WHEN ((x > 1)) THEN (1) ELSE 2 END", "case"),
            ("2024", "2024"),
            ("NULL", "NULL"),
            ("(USD)", "(USD)"),
            ("revenue (USD)", "revenue (USD)"),
            ("sum(x) + 1", "sum(x) + 1"),
            ("-(x)", "?column?"),
            ("trim(' a ')", "btrim"),
            ("-1", "-1"),
            ("f(a) + g(b)", "f(a) + g(b)"),
            ("list(x)[1]", "list"),
            ("a[1]", "a"),
            ("t.a[1:2]", "a"),
            ("a[1][2]", "a"),
            ("(ARRAY[1, 2])", "array"),
            ("(ARRAY[1, 2, 3])[2]", "array"),
            ("(ARRAY['a]', 'b'])", "array"),
            ("'[1]'", "?column?"),
            ("[1]", "[1]"),
            ("quantile_cont(0.5 ORDER BY x)", "percentile_cont"),
            ("quantile_disc(0.5 ORDER BY x DESC)", "percentile_disc"),
            ("quantile_cont(x, 0.5)", "quantile_cont"),
            ("\"mode\"() WITHIN GROUP ( ORDER BY x)", "mode"),
            ("regexp_full_match(s, '.*a.*')", "?column?"),
            (
                "list_bool_or(list_transform(main.list_value('A%'), (pg_compat_pattern -> ('abc' ~~* pg_compat_pattern))))",
                "?column?",
            ),
            ("list_bool_or(l)", "list_bool_or"),
            ("strftime(d, '%Y')", "to_char"),
            ("unnest(generate_series(1, 2))", "generate_series"),
            ("unnest(a)", "unnest"),
            (
                "unnest(json_array_elements((j -> 'a')))",
                "json_array_elements",
            ),
            ("pg_compat_typeof(1)", "pg_typeof"),
            ("CAST(unhex('4142') AS \"BLOB\")", "bytea"),
            ("unhex('4142')", "decode"),
            ("unhex(sha256(CAST('a' AS \"BLOB\")))", "sha256"),
            ("lower(hex(b))", "encode"),
            ("lower(to_hex(255))", "to_hex"),
            ("lower(s)", "lower"),
            ("to_base64(b)", "encode"),
            ("CAST(strptime('2024', '%Y') AS \"DATE\")", "to_date"),
            (
                "CAST(strptime(t, '%H') AS TIMESTAMP WITH TIME ZONE)",
                "to_timestamp",
            ),
            ("CAST('a' AS VARCHAR(10))", "varchar"),
            ("CAST('a' AS VARCHAR)", "text"),
            ("pg_compat_cardinality(a)", "cardinality"),
            ("CAST(main.list_value('1.5', '2') AS DOUBLE[])", "float8"),
            ("CAST(main.list_value('a') AS VARCHAR[])", "text"),
            ("n", "n"),
            ("my col", "my col"),
            (
                "pg_compat_session_value('current_user', 'alice')",
                "current_user",
            ),
            (
                "pg_compat_session_value('version', 'PostgreSQL 15.0 (x, y)')",
                "version",
            ),
            ("upper(pg_compat_session_value('user', 'a'))", "upper"),
            ("|/(25)", "?column?"),
            ("||/((16 * 4))", "?column?"),
            ("pg_compat_octet_length('héllo')", "octet_length"),
            ("pg_compat_date_trunc('month', x)", "date_trunc"),
            (
                "pg_compat_session_value('extract', (CAST(date_part('year', d) AS DECIMAL(18,0))))",
                "extract",
            ),
        ] {
            assert_eq!(pg_column_name(duckdb), pg, "{duckdb}");
        }
    }

    use super::*;
    use arrow::array::{
        BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
        Int8Array, IntervalMonthDayNanoArray, ListArray, StringArray, StructArray,
        TimestampMicrosecondArray,
    };
    use arrow::datatypes::{Int32Type as I32, IntervalMonthDayNano};

    fn text(array: ArrayRef, row: usize) -> String {
        let mut buf = BytesMut::new();
        write_text(&mut buf, &array, row, &Zone::UTC);
        String::from_utf8(buf.to_vec()).unwrap()
    }

    fn binary(array: ArrayRef, row: usize) -> Vec<u8> {
        let (t, _) = pg_type_of(array.data_type());
        let mut buf = BytesMut::new();
        write_binary(&mut buf, &array, row, &t, &Zone::UTC);
        buf.to_vec()
    }

    #[test]
    fn maps_arrow_types_to_pg() {
        let cases = [
            (DataType::Boolean, Type::BOOL),
            (DataType::Int8, Type::INT2),
            (DataType::UInt16, Type::INT4),
            (DataType::UInt32, Type::INT8),
            (DataType::UInt64, Type::NUMERIC),
            (DataType::Utf8View, Type::VARCHAR),
            (
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                Type::TIMESTAMPTZ,
            ),
            (
                DataType::Timestamp(TimeUnit::Microsecond, None),
                Type::TIMESTAMP,
            ),
            (DataType::new_list(DataType::Int32, true), Type::INT4_ARRAY),
            (
                DataType::new_list(DataType::new_list(DataType::Int32, true), true),
                Type::JSON,
            ),
            (
                DataType::Struct(vec![Field::new("a", DataType::Int32, true)].into()),
                Type::JSON,
            ),
        ];
        for (dt, expected) in cases {
            assert_eq!(pg_type_of(&dt).0, expected, "{dt}");
        }
        assert_eq!(
            pg_type_of(&DataType::Decimal128(10, 2)),
            (Type::NUMERIC, (10 << 16 | 2) + 4)
        );
    }

    #[test]
    fn encodes_text_like_postgres() {
        assert_eq!(
            text(Arc::new(BooleanArray::from(vec![true, false])), 1),
            "f"
        );
        assert_eq!(text(Arc::new(Int8Array::from(vec![-5])), 0), "-5");
        assert_eq!(
            text(
                Arc::new(Float64Array::from(vec![
                    1.5,
                    1e20,
                    1.5e-5,
                    f64::NAN,
                    f64::INFINITY,
                    0.1 + 0.2
                ])),
                0
            ),
            "1.5"
        );
        let floats: ArrayRef = Arc::new(Float64Array::from(vec![
            1.5,
            1e20,
            1.5e-5,
            f64::NAN,
            f64::INFINITY,
            0.1 + 0.2,
            123456.0,
        ]));
        let got: Vec<String> = (0..7).map(|i| text(Arc::clone(&floats), i)).collect();
        assert_eq!(
            got,
            [
                "1.5",
                "1e+20",
                "1.5e-05",
                "NaN",
                "Infinity",
                "0.30000000000000004",
                "123456"
            ]
        );
        let dec: ArrayRef = Arc::new(
            Decimal128Array::from(vec![12345, -5, 0])
                .with_precision_and_scale(10, 2)
                .unwrap(),
        );
        assert_eq!(
            (0..3)
                .map(|i| text(Arc::clone(&dec), i))
                .collect::<Vec<_>>(),
            ["123.45", "-0.05", "0.00"]
        );
        assert_eq!(
            text(Arc::new(Date32Array::from(vec![19_000])), 0),
            "2022-01-08"
        );
        let ts: ArrayRef = Arc::new(TimestampMicrosecondArray::from(vec![1_500_000, 0]));
        assert_eq!(text(Arc::clone(&ts), 0), "1970-01-01 00:00:01.5");
        let tstz: ArrayRef =
            Arc::new(TimestampMicrosecondArray::from(vec![0]).with_timezone("UTC"));
        assert_eq!(text(tstz, 0), "1970-01-01 00:00:00+00");
        let iv: ArrayRef = Arc::new(IntervalMonthDayNanoArray::from(vec![
            IntervalMonthDayNano::new(14, 3, 3_723_500_000_000),
        ]));
        assert_eq!(text(iv, 0), "1 year 2 mons 3 days 01:02:03.5");
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<I32, _, _>(vec![Some(
            vec![Some(1), None, Some(3)],
        )]));
        assert_eq!(text(list, 0), "{1,NULL,3}");
        let strs = ListArray::new(
            Arc::new(Field::new_list_field(DataType::Utf8, true)),
            arrow::buffer::OffsetBuffer::from_lengths([3]),
            Arc::new(StringArray::from(vec!["a b", "", "x"])),
            None,
        );
        assert_eq!(text(Arc::new(strs), 0), "{\"a b\",\"\",x}");
        let st: ArrayRef = Arc::new(StructArray::from(vec![
            (
                Arc::new(Field::new("a", DataType::Int32, true)),
                Arc::new(Int32Array::from(vec![1])) as ArrayRef,
            ),
            (
                Arc::new(Field::new("b", DataType::Utf8, true)),
                Arc::new(StringArray::from(vec!["x\"y"])) as ArrayRef,
            ),
        ]));
        assert_eq!(text(st, 0), r#"{"a":1,"b":"x\"y"}"#);
    }

    #[test]
    fn encodes_binary_like_postgres() {
        assert_eq!(
            binary(Arc::new(Int64Array::from(vec![258])), 0),
            258i64.to_be_bytes()
        );
        assert_eq!(
            binary(Arc::new(Int8Array::from(vec![-1])), 0),
            (-1i16).to_be_bytes()
        );
        assert_eq!(
            binary(Arc::new(Date32Array::from(vec![epoch::OFFSET_DAYS + 1])), 0),
            1i32.to_be_bytes()
        );
        let list: ArrayRef = Arc::new(ListArray::from_iter_primitive::<I32, _, _>(vec![Some(
            vec![Some(7)],
        )]));
        let mut expected = Vec::new();
        for v in [1i32, 0, 23, 1, 1, 4, 7] {
            expected.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(binary(list, 0), expected);
    }

    #[test]
    fn numeric_binary_from_decimal128_matches_the_text_path() {
        for scale in [0i8, 1, 2, 3, 4, 5, 8, 10, 20, 36] {
            for value in [
                0i128,
                1,
                -1,
                5,
                9999,
                10_000,
                -123_456_789,
                100_000_000,
                10i128.pow(20) + 7,
                i128::from(i64::MAX),
                -(10i128.pow(37)),
            ] {
                let mut direct = BytesMut::new();
                assert!(numeric_binary_decimal128(&mut direct, value, scale));
                let mut via_text = BytesMut::new();
                numeric_binary(&mut via_text, &decimal_text(&value.to_string(), scale));
                assert_eq!(direct, via_text, "{value} scale {scale}");
            }
        }
        assert!(!numeric_binary_decimal128(&mut BytesMut::new(), 1, -2));
    }

    #[test]
    fn numeric_binary_matches_postgres() {
        let enc = |s: &str| {
            let mut b = BytesMut::new();
            numeric_binary(&mut b, s);
            b.chunks(2)
                .map(|c| i16::from_be_bytes([c[0], c[1]]))
                .collect::<Vec<_>>()
        };
        // ndigits, weight, sign, dscale, digits...
        assert_eq!(enc("123.45"), [2, 0, 0, 2, 123, 4500]);
        assert_eq!(enc("-0.05"), [1, -1, 0x4000, 2, 500]);
        assert_eq!(enc("10000"), [1, 1, 0, 0, 1]);
        assert_eq!(enc("0.00"), [0, 0, 0, 2]);
        assert_eq!(
            enc("18446744073709551615"),
            [5, 4, 0, 0, 1844, 6744, 737, 955, 1615]
        );
    }

    #[test]
    fn column_cells_write_what_the_general_path_writes() {
        use arrow::array::{Date32Array, Decimal128Array, Float64Array, Int16Array, StringArray};
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int16Array::from(vec![Some(-7), None])),
            Arc::new(Int32Array::from(vec![Some(i32::MIN), Some(0)])),
            Arc::new(Int64Array::from(vec![Some(i64::MAX), None])),
            Arc::new(Float64Array::from(vec![Some(1.5e300), Some(-0.25)])),
            Arc::new(
                Decimal128Array::from(vec![Some(-12_345), Some(7)])
                    .with_precision_and_scale(15, 2)
                    .unwrap(),
            ),
            Arc::new(StringArray::from(vec![Some("héllo"), None])),
            Arc::new(Date32Array::from(vec![Some(19_782), Some(-800_000)])),
        ];
        for format in [FieldFormat::Text, FieldFormat::Binary] {
            for column in &columns {
                let (pg, _) = pg_type_of(column.data_type());
                let cells = ColumnCells::new(column, &pg, format);
                assert!(
                    !matches!(cells, ColumnCells::Other(..)),
                    "{}",
                    column.data_type()
                );
                for row in 0..column.len() {
                    let (mut fast, mut general) = (BytesMut::new(), BytesMut::new());
                    cells.write_cell(&mut fast, row, format, &Zone::UTC);
                    write_cell(&mut general, column, row, &pg, format, &Zone::UTC);
                    assert_eq!(fast, general, "{} row {row} {format:?}", column.data_type());
                }
            }
        }
        // A binary type other than the natural one takes the general path.
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![1]));
        assert!(matches!(
            ColumnCells::new(&ints, &Type::NUMERIC, FieldFormat::Binary),
            ColumnCells::Other(..)
        ));
    }

    #[test]
    fn iso_dates_match_chrono_inside_and_outside_the_table() {
        for days in (-719_162i64..=2_932_896)
            .step_by(331)
            .chain(ISO_DATE_TABLE_FIRST_DAY - 2..ISO_DATE_TABLE_FIRST_DAY + 2)
            .chain(ISO_DATE_TABLE_END_DAY - 2..ISO_DATE_TABLE_END_DAY + 2)
            .chain([-719_162, 0, 2_932_896])
        {
            let date = chrono::NaiveDate::from_num_days_from_ce_opt(days as i32 + 719_163).unwrap();
            let mut buf = BytesMut::new();
            assert!(put_iso_date(&mut buf, days), "{days}");
            assert_eq!(
                &buf[..],
                date.format("%Y-%m-%d").to_string().as_bytes(),
                "{days}"
            );
        }
        let mut buf = BytesMut::new();
        assert!(!put_iso_date(&mut buf, -719_163));
        assert!(!put_iso_date(&mut buf, 2_932_897));
        assert!(buf.is_empty());
    }

    #[test]
    fn civil_from_days_matches_chrono() {
        use chrono::Datelike;
        for days in (-719_162i64..=2_932_896)
            .step_by(997)
            .chain([0, -1, 59, 60, 11_016, 2_932_896])
        {
            let date = chrono::NaiveDate::from_num_days_from_ce_opt(days as i32 + 719_163).unwrap();
            assert_eq!(
                civil_from_days(days),
                (i64::from(date.year()), date.month(), date.day()),
                "{days}"
            );
        }
    }

    #[test]
    fn fast_text_matches_the_general_formatters() {
        for scale in [-2i8, 0, 1, 2, 5, 10] {
            for value in [
                0i128,
                5,
                -5,
                12345,
                -12345,
                99,
                100,
                i128::from(i64::MAX),
                -(10i128.pow(30)),
            ] {
                let mut buf = BytesMut::new();
                put_decimal128(&mut buf, value, scale);
                assert_eq!(
                    &buf[..],
                    decimal_text(&value.to_string(), scale).as_bytes(),
                    "{value} {scale}"
                );
            }
        }
        let text = |array: ArrayRef| {
            let mut buf = BytesMut::new();
            write_text(&mut buf, &array, 0, &Zone::UTC);
            String::from_utf8(buf.to_vec()).unwrap()
        };
        use arrow::array::{Date32Array, Time64MicrosecondArray, TimestampMicrosecondArray};
        assert_eq!(
            text(Arc::new(Date32Array::from(vec![19_782]))),
            "2024-02-29"
        );
        assert_eq!(
            text(Arc::new(Date32Array::from(vec![-719_162]))),
            "0001-01-01"
        );
        assert_eq!(
            text(Arc::new(TimestampMicrosecondArray::from(vec![
                1_709_210_096_120_000
            ]))),
            "2024-02-29 12:34:56.12"
        );
        assert_eq!(
            text(Arc::new(TimestampMicrosecondArray::from(vec![-1]))),
            "1969-12-31 23:59:59.999999"
        );
        assert_eq!(
            text(Arc::new(Time64MicrosecondArray::from(vec![86_399_000_001]))),
            "23:59:59.000001"
        );
        assert_eq!(
            text(Arc::new(Int64Array::from(vec![i64::MIN]))),
            i64::MIN.to_string()
        );
    }

    #[test]
    fn decimal_text_places_the_point() {
        assert_eq!(decimal_text("5", 3), "0.005");
        assert_eq!(decimal_text("-12345", 2), "-123.45");
        assert_eq!(decimal_text("12", -2), "1200");
    }
}
