//! Static answers the gateway gives itself: `GetSqlInfo` and `GetXdbcTypeInfo`.

use arrow_flight::sql::metadata::{
    SqlInfoData, SqlInfoDataBuilder, XdbcTypeInfo, XdbcTypeInfoData, XdbcTypeInfoDataBuilder,
};
use arrow_flight::sql::{
    Nullable, Searchable, SqlInfo, SqlNullOrdering, SqlSupportedCaseSensitivity,
    SqlSupportedTransaction, XdbcDataType, XdbcDatetimeSubcode,
};

/// Reserved words clients quote around (DuckDB's keyword list, abridged to the SQL standard ones
/// clients check).
const KEYWORDS: &[&str] = &[
    "ANALYZE",
    "ASOF",
    "ATTACH",
    "COPY",
    "DESCRIBE",
    "EXPORT",
    "GLOB",
    "ILIKE",
    "INSTALL",
    "LOAD",
    "MACRO",
    "PIVOT",
    "PRAGMA",
    "QUALIFY",
    "SAMPLE",
    "SUMMARIZE",
    "UNPIVOT",
];
const NUMERIC_FUNCTIONS: &[&str] = &[
    "ABS", "ACOS", "ASIN", "ATAN", "ATAN2", "CEIL", "CEILING", "COS", "COT", "DEGREES", "EXP",
    "FLOOR", "LN", "LOG", "LOG10", "LOG2", "MOD", "PI", "POW", "POWER", "RADIANS", "RANDOM",
    "ROUND", "SIGN", "SIN", "SQRT", "TAN", "TRUNC",
];
const STRING_FUNCTIONS: &[&str] = &[
    "ASCII",
    "CHR",
    "CONCAT",
    "CONCAT_WS",
    "CONTAINS",
    "LEFT",
    "LENGTH",
    "LIKE",
    "LOWER",
    "LPAD",
    "LTRIM",
    "POSITION",
    "REGEXP_MATCHES",
    "REGEXP_REPLACE",
    "REPEAT",
    "REPLACE",
    "REVERSE",
    "RIGHT",
    "RPAD",
    "RTRIM",
    "SPLIT_PART",
    "STARTS_WITH",
    "STRPOS",
    "SUBSTR",
    "SUBSTRING",
    "TRIM",
    "UPPER",
];
const SYSTEM_FUNCTIONS: &[&str] = &[
    "CURRENT_DATABASE",
    "CURRENT_SCHEMA",
    "CURRENT_USER",
    "VERSION",
    "COALESCE",
    "IFNULL",
    "NULLIF",
];
const DATETIME_FUNCTIONS: &[&str] = &[
    "AGE",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DATE_ADD",
    "DATE_DIFF",
    "DATE_PART",
    "DATE_SUB",
    "DATE_TRUNC",
    "DAYNAME",
    "EPOCH",
    "EXTRACT",
    "LAST_DAY",
    "MAKE_DATE",
    "MAKE_TIMESTAMP",
    "MONTHNAME",
    "NOW",
    "STRFTIME",
    "STRPTIME",
    "TO_TIMESTAMP",
];

/// Everything the ADBC and Flight SQL JDBC drivers read at connect time.
pub fn sql_info() -> SqlInfoData {
    let mut builder = SqlInfoDataBuilder::new();
    builder.append(SqlInfo::FlightSqlServerName, "Tavana");
    builder.append(SqlInfo::FlightSqlServerVersion, env!("CARGO_PKG_VERSION"));
    builder.append(
        SqlInfo::FlightSqlServerArrowVersion,
        "1.5 (Arrow IPC), arrow-rs 58",
    );
    builder.append(SqlInfo::FlightSqlServerReadOnly, false);
    builder.append(SqlInfo::FlightSqlServerSql, true);
    builder.append(SqlInfo::FlightSqlServerSubstrait, false);
    builder.append(
        SqlInfo::FlightSqlServerTransaction,
        SqlSupportedTransaction::None as i32,
    );
    builder.append(SqlInfo::FlightSqlServerCancel, true);
    builder.append(SqlInfo::FlightSqlServerBulkIngestion, false);
    builder.append(SqlInfo::FlightSqlServerStatementTimeout, 0i32);
    builder.append(SqlInfo::FlightSqlServerTransactionTimeout, 0i32);
    builder.append(SqlInfo::SqlDdlCatalog, false);
    builder.append(SqlInfo::SqlDdlSchema, false);
    builder.append(SqlInfo::SqlDdlTable, false);
    builder.append(
        SqlInfo::SqlIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityCaseInsensitive as i32,
    );
    builder.append(SqlInfo::SqlIdentifierQuoteChar, "\"");
    builder.append(
        SqlInfo::SqlQuotedIdentifierCase,
        SqlSupportedCaseSensitivity::SqlCaseSensitivityCaseInsensitive as i32,
    );
    builder.append(SqlInfo::SqlAllTablesAreSelectable, true);
    builder.append(
        SqlInfo::SqlNullOrdering,
        SqlNullOrdering::SqlNullsSortedAtEnd as i32,
    );
    builder.append(SqlInfo::SqlKeywords, KEYWORDS);
    builder.append(SqlInfo::SqlNumericFunctions, NUMERIC_FUNCTIONS);
    builder.append(SqlInfo::SqlStringFunctions, STRING_FUNCTIONS);
    builder.append(SqlInfo::SqlSystemFunctions, SYSTEM_FUNCTIONS);
    builder.append(SqlInfo::SqlDatetimeFunctions, DATETIME_FUNCTIONS);
    builder.append(SqlInfo::SqlSearchStringEscape, "\\");
    builder.append(SqlInfo::SqlExtraNameCharacters, "");
    builder.append(SqlInfo::SqlSupportsColumnAliasing, true);
    builder.append(SqlInfo::SqlNullPlusNullIsNull, true);
    builder.append(SqlInfo::SqlSupportsTableCorrelationNames, true);
    builder.append(SqlInfo::SqlSupportsDifferentTableCorrelationNames, false);
    builder.append(SqlInfo::SqlSupportsExpressionsInOrderBy, true);
    builder.append(SqlInfo::SqlSupportsOrderByUnrelated, true);
    builder.append(SqlInfo::SqlSupportsLikeEscapeClause, true);
    builder.append(SqlInfo::SqlSupportsNonNullableColumns, true);
    builder.append(SqlInfo::SqlSupportsIntegrityEnhancementFacility, false);
    builder.append(SqlInfo::SqlSchemaTerm, "schema");
    builder.append(SqlInfo::SqlProcedureTerm, "procedure");
    builder.append(SqlInfo::SqlCatalogTerm, "catalog");
    builder.append(SqlInfo::SqlCatalogAtStart, true);
    builder.append(SqlInfo::SqlSelectForUpdateSupported, false);
    builder.append(SqlInfo::SqlStoredProceduresSupported, false);
    builder.append(SqlInfo::SqlCorrelatedSubqueriesSupported, true);
    builder.append(SqlInfo::SqlMaxBinaryLiteralLength, 0i64);
    builder.append(SqlInfo::SqlMaxCharLiteralLength, 0i64);
    builder.append(SqlInfo::SqlMaxColumnNameLength, 0i64);
    builder.append(SqlInfo::SqlMaxColumnsInGroupBy, 0i64);
    builder.append(SqlInfo::SqlMaxColumnsInIndex, 0i64);
    builder.append(SqlInfo::SqlMaxColumnsInOrderBy, 0i64);
    builder.append(SqlInfo::SqlMaxColumnsInSelect, 0i64);
    builder.append(SqlInfo::SqlMaxColumnsInTable, 0i64);
    builder.append(SqlInfo::SqlMaxConnections, 0i64);
    builder.append(SqlInfo::SqlMaxCursorNameLength, 0i64);
    builder.append(SqlInfo::SqlMaxIndexLength, 0i64);
    builder.append(SqlInfo::SqlDbSchemaNameLength, 0i64);
    builder.append(SqlInfo::SqlMaxProcedureNameLength, 0i64);
    builder.append(SqlInfo::SqlMaxCatalogNameLength, 0i64);
    builder.append(SqlInfo::SqlMaxRowSize, 0i64);
    builder.append(SqlInfo::SqlMaxRowSizeIncludesBlobs, true);
    builder.append(SqlInfo::SqlMaxStatementLength, 0i64);
    builder.append(SqlInfo::SqlMaxStatements, 0i64);
    builder.append(SqlInfo::SqlMaxTableNameLength, 0i64);
    builder.append(SqlInfo::SqlMaxTablesInSelect, 0i64);
    builder.append(SqlInfo::SqlMaxUsernameLength, 0i64);
    builder.append(SqlInfo::SqlDefaultTransactionIsolation, 0i64);
    builder.append(SqlInfo::SqlTransactionsSupported, false);
    builder.append(SqlInfo::SqlBatchUpdatesSupported, false);
    builder.append(SqlInfo::SqlSavepointsSupported, false);
    builder.append(SqlInfo::SqlNamedParametersSupported, false);
    builder.append(SqlInfo::SqlLocatorsUpdateCopy, false);
    builder.append(SqlInfo::SqlStoredFunctionsUsingCallSyntaxSupported, false);
    builder.build().expect("static SQL info is valid")
}

fn type_info(
    name: &str,
    data_type: XdbcDataType,
    column_size: Option<i32>,
    literal: Option<&str>,
) -> XdbcTypeInfo {
    XdbcTypeInfo {
        type_name: name.to_owned(),
        data_type,
        column_size,
        literal_prefix: literal.map(str::to_owned),
        literal_suffix: literal.map(str::to_owned),
        create_params: None,
        nullable: Nullable::NullabilityNullable,
        case_sensitive: matches!(data_type, XdbcDataType::XdbcVarchar),
        searchable: Searchable::Full,
        unsigned_attribute: Some(false),
        fixed_prec_scale: false,
        auto_increment: Some(false),
        local_type_name: Some(name.to_owned()),
        minimum_scale: None,
        maximum_scale: None,
        sql_data_type: data_type,
        datetime_subcode: match data_type {
            XdbcDataType::XdbcDate => Some(XdbcDatetimeSubcode::XdbcSubcodeYear), // SQL_CODE_DATE = 1
            XdbcDataType::XdbcTime => Some(XdbcDatetimeSubcode::XdbcSubcodeTime),
            XdbcDataType::XdbcTimestamp => Some(XdbcDatetimeSubcode::XdbcSubcodeTimestamp),
            _ => None,
        },
        num_prec_radix: None,
        interval_precision: None,
    }
}

/// The SQL types DuckDB offers, in JDBC/ODBC terms.
pub fn xdbc_type_info() -> XdbcTypeInfoData {
    let mut builder = XdbcTypeInfoDataBuilder::new();
    for info in [
        type_info("BOOLEAN", XdbcDataType::XdbcBit, Some(1), None),
        type_info("TINYINT", XdbcDataType::XdbcTinyint, Some(3), None),
        type_info("SMALLINT", XdbcDataType::XdbcSmallint, Some(5), None),
        type_info("INTEGER", XdbcDataType::XdbcInteger, Some(10), None),
        type_info("BIGINT", XdbcDataType::XdbcBigint, Some(19), None),
        type_info("FLOAT", XdbcDataType::XdbcReal, Some(7), None),
        type_info("DOUBLE", XdbcDataType::XdbcDouble, Some(15), None),
        type_info("DECIMAL", XdbcDataType::XdbcDecimal, Some(38), None),
        type_info("VARCHAR", XdbcDataType::XdbcVarchar, None, Some("'")),
        type_info("BLOB", XdbcDataType::XdbcVarbinary, None, None),
        type_info("DATE", XdbcDataType::XdbcDate, Some(10), Some("'")),
        type_info("TIME", XdbcDataType::XdbcTime, Some(15), Some("'")),
        type_info(
            "TIMESTAMP",
            XdbcDataType::XdbcTimestamp,
            Some(26),
            Some("'"),
        ),
        type_info(
            "TIMESTAMP WITH TIME ZONE",
            XdbcDataType::XdbcTimestamp,
            Some(32),
            Some("'"),
        ),
        type_info("INTERVAL", XdbcDataType::XdbcInterval, None, Some("'")),
    ] {
        builder.append(info);
    }
    builder.build().expect("static type info is valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_ids_drivers_read() {
        let info = sql_info();
        let batch = info
            .record_batch([
                SqlInfo::FlightSqlServerName as u32,
                SqlInfo::FlightSqlServerVersion as u32,
                SqlInfo::FlightSqlServerArrowVersion as u32,
                SqlInfo::FlightSqlServerReadOnly as u32,
                SqlInfo::SqlIdentifierQuoteChar as u32,
                SqlInfo::SqlKeywords as u32,
                SqlInfo::SqlTransactionsSupported as u32,
            ])
            .unwrap();
        assert_eq!(batch.num_rows(), 7);
        assert!(xdbc_type_info().record_batch(None).unwrap().num_rows() >= 14);
    }
}
