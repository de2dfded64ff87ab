//! The lake catalog: a TOML file naming `schema.table` → format + location, turned into DuckDB
//! schemas, views and time-travel macros. Views live in the engine's catalog, so every
//! connection sees them and Flight SQL `GetDbSchemas` / `GetTables` list them with their columns.
//!
//! The file is re-read when its modification time changes (and on demand, e.g. SIGHUP); only
//! tables whose definition changed are re-created, removed tables are dropped, and a table whose
//! location cannot be read becomes a placeholder view that fails with the cause until a later
//! reload succeeds.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tracing::{debug, info, warn};

use super::credentials::ParamValue;
use super::LakeConfigError;
use crate::ffi::Database;
use crate::sandbox::{quote_identifier, quote_literal};

/// Schemas a catalog may not define tables in.
const RESERVED_SCHEMAS: [&str; 4] = ["information_schema", "pg_catalog", "temp", "system"];

/// A table's storage format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Delta Lake table folder (`delta_scan`).
    Delta,
    /// Iceberg table folder with a version hint, or a `*.metadata.json` file (`iceberg_scan`).
    Iceberg,
    /// Parquet files, globs allowed (`read_parquet`).
    Parquet,
    /// CSV files (`read_csv`).
    Csv,
    /// JSON / NDJSON files (`read_json`).
    Json,
}

impl Format {
    fn parse(text: &str) -> Option<Self> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "delta" => Format::Delta,
            "iceberg" => Format::Iceberg,
            "parquet" => Format::Parquet,
            "csv" => Format::Csv,
            "json" | "ndjson" => Format::Json,
            _ => return None,
        })
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Delta => "delta",
            Format::Iceberg => "iceberg",
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    fn function(self) -> &'static str {
        match self {
            Format::Delta => "delta_scan",
            Format::Iceberg => "iceberg_scan",
            Format::Parquet => "read_parquet",
            Format::Csv => "read_csv",
            Format::Json => "read_json",
        }
    }
}

/// One named table of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDef {
    /// Schema name.
    pub schema: String,
    /// Table (view) name.
    pub name: String,
    /// Storage format.
    pub format: Format,
    /// Location(s): a table folder, a file, or globs.
    pub locations: Vec<String>,
    /// Extra named parameters for the scan function (`hive_partitioning`, `header`, ...).
    pub options: BTreeMap<String, ParamValue>,
    /// Free text shown as the view's comment.
    pub comment: Option<String>,
    /// Whether the executor holds a copy of the table in memory (`cache = "memory"`).
    pub cache: Cache,
}

/// Where queries of a catalog table read it from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cache {
    /// From its location, at every query (a view over the scan).
    #[default]
    None,
    /// From a compressed copy the executor loads into DuckDB's memory, read again from the
    /// location every `refresh` (if set), on `SIGHUP` and when its definition changes. Until
    /// the first copy is loaded, queries read the location.
    Memory {
        /// How often the copy is reloaded; `None`: only on `SIGHUP` or a changed definition.
        refresh: Option<Duration>,
    },
}

impl TableDef {
    /// `schema.table`.
    pub fn qualified(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    /// Human description used in messages: `delta table at s3://lake/orders`.
    pub fn describe(&self) -> String {
        format!(
            "{} table at {}",
            self.format.name(),
            self.locations.join(", ")
        )
    }

    fn view(&self) -> String {
        format!(
            "{}.{}",
            quote_identifier(&self.schema),
            quote_identifier(&self.name)
        )
    }

    /// The time-travel macro this table gets, if its format has one: its name and parameter.
    pub fn time_travel(&self) -> Option<(String, &'static str)> {
        match self.format {
            Format::Delta => Some((format!("{}_at_version", self.name), "version")),
            Format::Iceberg => Some((format!("{}_at_snapshot", self.name), "snapshot_from_id")),
            _ => None,
        }
    }

    /// The scan expression, with `extra` named arguments appended.
    fn scan(&self, extra: &[(&str, String)]) -> String {
        let location = match self.locations.as_slice() {
            [one] => quote_literal(one),
            many => ParamValue::List(many.to_vec()).sql(),
        };
        let mut args = vec![location];
        for (key, value) in &self.options {
            args.push(format!("{key} => {}", value.sql()));
        }
        for (key, value) in extra {
            args.push(format!("{key} => {value}"));
        }
        format!("{}({})", self.format.function(), args.join(", "))
    }

    /// Statements that create (or replace) the table's view and macros.
    pub(crate) fn create_statements(&self) -> Vec<String> {
        let mut statements = vec![
            format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                quote_identifier(&self.schema)
            ),
            format!(
                "CREATE OR REPLACE VIEW {} AS SELECT * FROM {}",
                self.view(),
                self.scan(&[])
            ),
            format!(
                "COMMENT ON VIEW {} IS {}",
                self.view(),
                quote_literal(&self.comment_text(false))
            ),
        ];
        if let Some((name, parameter)) = self.time_travel() {
            statements.push(format!(
                "CREATE OR REPLACE MACRO {}.{}(v) AS TABLE SELECT * FROM {}",
                quote_identifier(&self.schema),
                quote_identifier(&name),
                self.scan(&[(parameter, "v::UBIGINT".into())])
            ));
        }
        statements
    }

    /// The comment of the table's view, or of its copy in memory.
    fn comment_text(&self, in_memory: bool) -> String {
        let what = if in_memory {
            format!("{}, held in memory", self.describe())
        } else {
            self.describe()
        };
        match &self.comment {
            Some(comment) => format!("{comment} ({what})"),
            None => what,
        }
    }

    /// Statements that copy the table into `database` (an attached in-memory database of its
    /// own) and point the table's view at the copy: (create the copy, replace the view,
    /// comment the view).
    pub(crate) fn copy_statements(&self, database: &str) -> [String; 3] {
        let copy = format!(
            "{}.main.{}",
            quote_identifier(database),
            quote_identifier(&self.name)
        );
        [
            format!("CREATE TABLE {copy} AS SELECT * FROM {}", self.scan(&[])),
            format!(
                "CREATE OR REPLACE VIEW {} AS SELECT * FROM {copy}",
                self.view()
            ),
            format!(
                "COMMENT ON VIEW {} IS {}",
                self.view(),
                quote_literal(&self.comment_text(true))
            ),
        ]
    }

    /// A query answering one text that changes whenever the table's files change: their names,
    /// sizes and modification times (`read_blob` reads no content for these). For Delta the
    /// files of its log, for Iceberg those of its metadata folder (a `*.metadata.json`
    /// location is one fixed snapshot).
    pub(crate) fn fingerprint_sql(&self) -> String {
        let folder = |suffix: &str| {
            self.locations
                .iter()
                .map(|location| format!("{}/{suffix}", location.trim_end_matches('/')))
                .collect()
        };
        let patterns = match self.format {
            Format::Parquet | Format::Csv | Format::Json => self.locations.clone(),
            Format::Delta => folder("_delta_log/*.json"),
            Format::Iceberg if self.locations[0].ends_with(".json") => self.locations.clone(),
            Format::Iceberg => folder("metadata/*"),
        };
        format!(
            "SELECT coalesce(string_agg(filename || ' ' || size || ' ' || last_modified, ',' \
             ORDER BY filename), '') FROM read_blob({})",
            ParamValue::List(patterns).sql()
        )
    }

    /// A view that fails with `cause` when queried: a table whose location cannot be read still
    /// lists, and querying it says why.
    pub(crate) fn placeholder_statements(&self, cause: &str) -> Vec<String> {
        let message = format!(
            "Table {} ({}) is unavailable: {cause}",
            self.qualified(),
            self.describe()
        );
        let mut statements = vec![
            format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                quote_identifier(&self.schema)
            ),
            format!(
                "CREATE OR REPLACE VIEW {} AS SELECT error({})::VARCHAR AS unavailable",
                self.view(),
                quote_literal(&message)
            ),
        ];
        if let Some((name, _)) = self.time_travel() {
            statements.push(format!(
                "CREATE OR REPLACE MACRO {}.{}(v) AS TABLE SELECT error({})::VARCHAR AS unavailable",
                quote_identifier(&self.schema),
                quote_identifier(&name),
                quote_literal(&message)
            ));
        }
        statements
    }

    /// Statements that remove the table's view and macros.
    pub(crate) fn drop_statements(&self) -> Vec<String> {
        let mut statements = vec![format!("DROP VIEW IF EXISTS {}", self.view())];
        if let Some((name, _)) = self.time_travel() {
            statements.push(format!(
                "DROP MACRO TABLE IF EXISTS {}.{}",
                quote_identifier(&self.schema),
                quote_identifier(&name)
            ));
        }
        statements
    }

    /// The first location not covered by `allowed_paths`, if any.
    pub(crate) fn location_outside(&self, allowed_paths: &[String]) -> Option<&str> {
        self.locations
            .iter()
            .find(|location| !is_allowed(location, allowed_paths))
            .map(String::as_str)
    }
}

/// Whether `location` lies under one of `allowed_paths` (what DuckDB's `allowed_directories`
/// will enforce; checked here first for a clearer message).
pub(crate) fn is_allowed(location: &str, allowed_paths: &[String]) -> bool {
    allowed_paths.iter().any(|allowed| {
        let dir = if allowed.ends_with('/') {
            allowed.clone()
        } else {
            format!("{allowed}/")
        };
        location.starts_with(&dir) || location == allowed.trim_end_matches('/')
    })
}

/// Parses a catalog file (format: docs/lakes.md).
pub fn parse_catalog(text: &str) -> Result<Vec<TableDef>, String> {
    let root: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut tables = Vec::new();
    for (schema, entries) in root {
        if schema.is_empty() || RESERVED_SCHEMAS.contains(&schema.to_ascii_lowercase().as_str()) {
            return Err(format!("schema name {schema:?} is reserved"));
        }
        let toml::Value::Table(entries) = entries else {
            return Err(format!(
                "[{schema}] must be a table of `name = \"format, location\"` entries"
            ));
        };
        for (name, entry) in entries {
            let at = format!("{schema}.{name}");
            if name.is_empty() {
                return Err(format!("{at}: empty table name"));
            }
            tables.push(parse_table(&schema, &name, entry).map_err(|e| format!("{at}: {e}"))?);
        }
    }
    let mut seen = BTreeSet::new();
    for table in &tables {
        let key = (
            table.schema.to_ascii_lowercase(),
            table.name.to_ascii_lowercase(),
        );
        if !seen.insert(key) {
            return Err(format!(
                "{} is defined twice (names are case-insensitive)",
                table.qualified()
            ));
        }
    }
    for table in &tables {
        if let Some((name, _)) = table.time_travel() {
            if seen.contains(&(table.schema.to_ascii_lowercase(), name.to_ascii_lowercase())) {
                return Err(format!(
                    "{}.{name} clashes with the time-travel macro of {}",
                    table.schema,
                    table.qualified()
                ));
            }
        }
    }
    Ok(tables)
}

fn parse_table(schema: &str, name: &str, entry: toml::Value) -> Result<TableDef, String> {
    let mut table = TableDef {
        schema: schema.to_owned(),
        name: name.to_owned(),
        format: Format::Parquet,
        locations: Vec::new(),
        options: BTreeMap::new(),
        comment: None,
        cache: Cache::None,
    };
    let mut refresh = None;
    let format_error =
        |f: &str| format!("unknown format {f:?} (use delta, iceberg, parquet, csv or json)");
    match entry {
        toml::Value::String(short) => {
            let (format, location) = short
                .split_once(',')
                .ok_or("write \"<format>, <location>\", e.g. \"delta, s3://lake/orders\"")?;
            table.format = Format::parse(format).ok_or_else(|| format_error(format))?;
            table.locations = vec![location.trim().to_owned()];
        }
        toml::Value::Table(fields) => {
            let mut format = None;
            for (key, value) in fields {
                match key.as_str() {
                    "format" => {
                        let text = value.as_str().ok_or("format must be a string")?;
                        format = Some(Format::parse(text).ok_or_else(|| format_error(text))?);
                    }
                    "location" => {
                        table.locations = match value {
                            toml::Value::String(s) => vec![s],
                            toml::Value::Array(items) => items
                                .into_iter()
                                .map(|i| match i {
                                    toml::Value::String(s) => Ok(s),
                                    _ => Err("location must be a string or a list of strings"),
                                })
                                .collect::<Result<_, _>>()?,
                            _ => return Err("location must be a string or a list of strings".into()),
                        }
                    }
                    "comment" => {
                        table.comment =
                            Some(value.as_str().ok_or("comment must be a string")?.to_owned())
                    }
                    "options" => {
                        let toml::Value::Table(options) = value else {
                            return Err("options must be a table".into());
                        };
                        for (option, value) in options {
                            table.options.insert(option_name(&option)?, option_value(value)?);
                        }
                    }
                    "cache" => {
                        table.cache = match value.as_str() {
                            Some("memory") => Cache::Memory { refresh: None },
                            Some("none") => Cache::None,
                            _ => return Err("cache must be \"memory\" or \"none\"".into()),
                        }
                    }
                    "refresh_secs" => match value.as_integer() {
                        Some(secs) if secs > 0 => {
                            refresh = Some(Duration::from_secs(secs.unsigned_abs()))
                        }
                        _ => return Err("refresh_secs must be a whole number of seconds above 0".into()),
                    },
                    // Shorthands for the common scan options.
                    "hive_partitioning" | "union_by_name" | "header" | "delim" | "filename" => {
                        table.options.insert(key.clone(), option_value(value)?);
                    }
                    other => {
                        return Err(format!(
                            "unknown field {other:?} (format, location, comment, cache, refresh_secs, options, hive_partitioning, union_by_name, header, delim, filename)"
                        ))
                    }
                }
            }
            table.format = format.ok_or("format is missing")?;
            if let Some(every) = refresh {
                match &mut table.cache {
                    Cache::Memory { refresh } => *refresh = Some(every),
                    Cache::None => {
                        return Err("refresh_secs applies to a table with cache = \"memory\"".into())
                    }
                }
            }
        }
        _ => {
            return Err(
                "must be \"<format>, <location>\" or a table with format and location".into(),
            )
        }
    }
    if table.locations.is_empty() || table.locations.iter().any(|l| l.trim().is_empty()) {
        return Err("location is missing".into());
    }
    if matches!(table.format, Format::Delta | Format::Iceberg) && table.locations.len() != 1 {
        return Err(format!(
            "a {} table has exactly one location",
            table.format.name()
        ));
    }
    for location in &table.locations {
        let local = !location.contains("://");
        if local && !location.starts_with('/') {
            return Err(format!(
                "location {location:?} must be an absolute path or an s3://, gs://, az://, abfss://, ... URL"
            ));
        }
    }
    Ok(table)
}

fn option_name(name: &str) -> Result<String, String> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(name.to_ascii_lowercase())
    } else {
        Err(format!(
            "option name {name:?} must be letters, digits and _"
        ))
    }
}

fn option_value(value: toml::Value) -> Result<ParamValue, String> {
    ParamValue::from_toml(value).map_err(|why| format!("an option value {why}"))
}

/// The outcome of applying the catalog.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReloadReport {
    /// Whether the file changed (or the reload was forced) and was applied.
    pub applied: bool,
    /// Tables created or re-created.
    pub created: usize,
    /// Tables removed.
    pub removed: usize,
    /// Tables that could not be created, with the cause (they are placeholders).
    pub failed: BTreeMap<String, String>,
}

struct CatalogState {
    /// Modification time of the file when last read.
    modified: Option<SystemTime>,
    /// When tables that failed were last retried.
    retried: Option<Instant>,
    /// The tables as last parsed.
    tables: Arc<Vec<TableDef>>,
    /// `schema.table` → why its view is a placeholder on the shared engine.
    failed: BTreeMap<String, String>,
    /// Schemas the catalog created (dropped again when they become empty).
    schemas: BTreeSet<String>,
    /// Bumped whenever `tables` changes; session engines built from an older generation are
    /// rebuilt.
    generation: u64,
}

/// The catalog file and what of it is applied to the shared engine.
pub(crate) struct Catalog {
    file: Option<PathBuf>,
    allowed_paths: Vec<String>,
    state: Mutex<CatalogState>,
    reload_lock: Mutex<()>,
    /// Tables whose creation outlived its deadline and is still running on its own thread:
    /// not retried until it ends.
    in_flight: Arc<Mutex<BTreeSet<String>>>,
    /// `schema.table` (lower case) → the table's copy in memory (`cache = "memory"`), for
    /// tables whose view opened.
    copies: Mutex<BTreeMap<String, MemoryCopy>>,
    /// Numbers the copy databases.
    copies_made: std::sync::atomic::AtomicU64,
    /// Whether a refresh first checks the table's files and keeps an unchanged copy. Off when
    /// DuckDB caches HTTP metadata (sizes and times would be stale).
    check_before_refresh: bool,
}

/// A catalog table held in memory: its definition and when its copy is next (re)loaded.
struct MemoryCopy {
    table: TableDef,
    /// When the copy is next loaded: at once after the view is (re)created, then every
    /// `refresh`; a failed load is retried after [`FAILED_RETRY`].
    due: Option<Instant>,
    /// The attached database holding the loaded copy, if one is (else queries read the
    /// location through the view).
    loaded: Option<String>,
    /// The table's files as they were when the loaded copy was read
    /// ([`TableDef::fingerprint_sql`]): a refresh that finds them unchanged keeps the copy.
    fingerprint: Option<String>,
}

/// Names of the attached in-memory databases that hold the copies (`tavana_copy_<n>`); hidden
/// from metadata listings.
pub(crate) const COPY_DATABASE_PREFIX: &str = "tavana_copy_";

/// The outcome of loading one table's copy into memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyLoad {
    /// `schema.table`.
    pub table: String,
    /// What the load did.
    pub outcome: CopyOutcome,
}

/// What loading (or refreshing) one table's copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyOutcome {
    /// A new copy of this many rows answers now.
    Loaded(usize),
    /// A refresh found the table's files as they were: the copy stays.
    Unchanged,
    /// Loading failed, for this reason; the table answers as before (from its last copy, or
    /// from its location).
    Failed(String),
}

impl CopyOutcome {
    /// The metric label of this outcome.
    pub fn label(&self) -> &'static str {
        match self {
            CopyOutcome::Loaded(_) => "loaded",
            CopyOutcome::Unchanged => "unchanged",
            CopyOutcome::Failed(_) => "error",
        }
    }
}

impl Catalog {
    pub(crate) fn new(file: Option<PathBuf>, allowed_paths: Vec<String>) -> Self {
        Self {
            file,
            allowed_paths,
            state: Mutex::new(CatalogState {
                modified: None,
                retried: None,
                tables: Arc::new(Vec::new()),
                failed: BTreeMap::new(),
                schemas: BTreeSet::new(),
                generation: 0,
            }),
            reload_lock: Mutex::new(()),
            in_flight: Arc::new(Mutex::new(BTreeSet::new())),
            copies: Mutex::new(BTreeMap::new()),
            copies_made: std::sync::atomic::AtomicU64::new(0),
            check_before_refresh: true,
        }
    }

    /// Sets whether a refresh keeps a copy whose files have not changed (on by default).
    pub(crate) fn with_check_before_refresh(mut self, check: bool) -> Self {
        self.check_before_refresh = check;
        self
    }

    /// When the next copy in memory is due to be loaded, if any is.
    pub(crate) fn next_copy_due(&self) -> Option<Instant> {
        let copies = self.copies.lock().expect("catalog copies");
        copies.values().filter_map(|copy| copy.due).min()
    }

    /// Tables answering from a copy in memory.
    pub(crate) fn copies_loaded(&self) -> usize {
        let copies = self.copies.lock().expect("catalog copies");
        copies.values().filter(|copy| copy.loaded.is_some()).count()
    }

    /// Loads the copies in memory that are due (first loads, refreshes, retries), one table at
    /// a time. Each copy goes into an in-memory database of its own, compressed there, and
    /// then the table's view is pointed at it; the previous copy is detached (queries still
    /// reading it finish). Blocking; a reload waits for the table being loaded.
    pub(crate) fn load_due_copies(&self, db: &Arc<Database>) -> Vec<CopyLoad> {
        let now = Instant::now();
        let due: Vec<(String, TableDef)> = {
            let copies = self.copies.lock().expect("catalog copies");
            copies
                .iter()
                .filter(|(_, copy)| copy.due.is_some_and(|due| due <= now))
                .map(|(name, copy)| (name.clone(), copy.table.clone()))
                .collect()
        };
        let mut loads = Vec::with_capacity(due.len());
        for (name, table) in due {
            let _serial = self.reload_lock.lock().expect("catalog reload lock");
            let known = {
                let copies = self.copies.lock().expect("catalog copies");
                match copies.get(&name) {
                    Some(copy) if copy.table == table && copy.due.is_some_and(|d| d <= now) => {
                        Some(copy.fingerprint.clone())
                    }
                    _ => None,
                }
            };
            let Some(known) = known else {
                continue;
            };
            let started = Instant::now();
            let (outcome, fingerprint, database) = self.refresh_copy(db, &table, known);
            let mut copies = self.copies.lock().expect("catalog copies");
            let Some(copy) = copies.get_mut(&name) else {
                continue;
            };
            let mut replaced = None;
            let next_refresh = match table.cache {
                Cache::Memory { refresh } => refresh.map(|every| Instant::now() + every),
                Cache::None => None,
            };
            match &outcome {
                CopyOutcome::Loaded(rows) => {
                    info!(table = %table.qualified(), rows, seconds = started.elapsed().as_secs_f64(), "catalog table loaded into memory");
                    replaced = copy.loaded.take();
                    copy.loaded = database;
                    copy.fingerprint = fingerprint;
                    copy.due = next_refresh;
                }
                CopyOutcome::Unchanged => {
                    debug!(table = %table.qualified(), "catalog table unchanged; its copy in memory stays");
                    copy.due = next_refresh;
                }
                CopyOutcome::Failed(cause) => {
                    let answering = if copy.loaded.is_some() {
                        "its last copy"
                    } else {
                        "its location"
                    };
                    warn!(table = %table.qualified(), %cause, "catalog table not loaded into memory; it answers from {answering}, and loading is retried in {}s", FAILED_RETRY.as_secs());
                    copy.due = Some(Instant::now() + FAILED_RETRY);
                }
            }
            drop(copies);
            if let (Some(previous), Ok(connection)) = (replaced, db.connect()) {
                detach(&connection, &previous);
            }
            loads.push(CopyLoad {
                table: table.qualified(),
                outcome,
            });
        }
        loads
    }

    /// Loads `table`'s copy into a new copy database, unless its files are as `known` (the
    /// fingerprint of the loaded copy). Returns what happened, the files' fingerprint, and
    /// the database now holding the copy if one was loaded.
    fn refresh_copy(
        &self,
        db: &Database,
        table: &TableDef,
        known: Option<String>,
    ) -> (CopyOutcome, Option<String>, Option<String>) {
        let connection = match db.connect() {
            Ok(connection) => connection,
            Err(error) => return (CopyOutcome::Failed(error.to_string()), None, None),
        };
        // Read before the copy, so that a change made while it loads shows next time.
        let fingerprint = if self.check_before_refresh {
            connection
                .query_row(&table.fingerprint_sql(), [], |row| row.get::<_, String>(0))
                .map_err(|error| {
                    debug!(table = %table.qualified(), %error, "cannot list the table's files; its copy is loaded regardless");
                })
                .ok()
        } else {
            None
        };
        if fingerprint.is_some() && fingerprint == known {
            return (CopyOutcome::Unchanged, fingerprint, None);
        }
        let database = format!(
            "{COPY_DATABASE_PREFIX}{}",
            self.copies_made
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        info!(table = %table.qualified(), %database, "loading catalog table into memory");
        match load_copy(&connection, table, &database) {
            Ok(rows) => (CopyOutcome::Loaded(rows), fingerprint, Some(database)),
            Err(cause) => (CopyOutcome::Failed(cause), None, None),
        }
    }

    /// The catalog file, if one is configured.
    pub(crate) fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The current tables and their generation.
    pub(crate) fn snapshot(&self) -> (Arc<Vec<TableDef>>, u64) {
        let state = self.state.lock().expect("catalog state");
        (Arc::clone(&state.tables), state.generation)
    }

    fn read(&self, file: &Path) -> Result<(Vec<TableDef>, Option<SystemTime>), LakeConfigError> {
        let modified = std::fs::metadata(file).and_then(|m| m.modified()).ok();
        let text = std::fs::read_to_string(file)
            .map_err(|e| LakeConfigError::Catalog(format!("reading {}: {e}", file.display())))?;
        let tables = parse_catalog(&text)
            .map_err(|e| LakeConfigError::Catalog(format!("{}: {e}", file.display())))?;
        Ok((tables, modified))
    }

    /// Re-reads the file if it changed (always when `force`), applies the difference to `db`
    /// and retries tables that failed before. Blocking; reloads are serialised, and readers of
    /// [`Catalog::snapshot`] are not held up while tables bind.
    ///
    /// A file that cannot be read or parsed leaves the current tables in place.
    /// (tables the catalog defines, of which unavailable), as last applied.
    pub(crate) fn table_counts(&self) -> (usize, usize) {
        let state = self.state.lock().expect("catalog state");
        (state.tables.len(), state.failed.len())
    }

    pub(crate) fn reload(
        &self,
        db: &Arc<Database>,
        force: bool,
        deadline: Option<Duration>,
    ) -> Result<ReloadReport, LakeConfigError> {
        let Some(file) = &self.file else {
            return Ok(ReloadReport::default());
        };
        let _serial = self.reload_lock.lock().expect("catalog reload lock");
        let modified = std::fs::metadata(file).and_then(|m| m.modified()).ok();
        let (old_tables, mut failed, mut schemas, applied_modified, retried) = {
            let state = self.state.lock().expect("catalog state");
            (
                Arc::clone(&state.tables),
                state.failed.clone(),
                state.schemas.clone(),
                state.modified,
                state.retried,
            )
        };
        let changed = force || applied_modified.is_none() || modified != applied_modified;
        // Unavailable tables are retried, but not more often than every FAILED_RETRY: each
        // attempt costs requests to the store.
        let retry_due = retried.is_none_or(|at| at.elapsed() >= FAILED_RETRY);
        if !changed && (failed.is_empty() || !retry_due) {
            return Ok(ReloadReport::default());
        }
        let new = if changed {
            match self.read(file) {
                Ok((tables, _)) => tables,
                Err(error) => {
                    // Remember the time so a broken file is reported once, not every poll.
                    self.state.lock().expect("catalog state").modified = modified;
                    return Err(error);
                }
            }
        } else {
            old_tables.as_ref().clone()
        };
        let connection = db.connect().map_err(|e| {
            LakeConfigError::Catalog(format!("connecting to apply the catalog: {e}"))
        })?;
        let key = |t: &TableDef| t.qualified().to_ascii_lowercase();
        let old: BTreeMap<String, &TableDef> = old_tables.iter().map(|t| (key(t), t)).collect();
        let new_by_key: BTreeMap<String, &TableDef> = new.iter().map(|t| (key(t), t)).collect();
        let mut report = ReloadReport {
            applied: changed,
            ..Default::default()
        };
        // Copy databases no view reads any more: detached once the views are replaced.
        let mut retired = Vec::new();
        for (name, table) in &old {
            let macro_gone = match new_by_key.get(name) {
                None => true,
                Some(new) => new.time_travel().map(|m| m.0) != table.time_travel().map(|m| m.0),
            };
            let statements = if new_by_key.contains_key(name) {
                // Replaced in place below; only a time-travel macro that changed name goes.
                table.drop_statements().split_off(1)
            } else {
                table.drop_statements()
            };
            if macro_gone || !new_by_key.contains_key(name) {
                for statement in statements {
                    if let Err(error) = connection.execute_batch(&statement) {
                        warn!(table = %table.qualified(), %error, "could not drop catalog table");
                    }
                }
            }
            if !new_by_key.contains_key(name) {
                failed.remove(name);
                if let Some(copy) = self.copies.lock().expect("catalog copies").remove(name) {
                    retired.extend(copy.loaded);
                }
                report.removed += 1;
            }
        }
        let todo: Vec<TableDef> = new
            .iter()
            .filter(|table| {
                let name = key(table);
                force || old.get(&name) != Some(table) || failed.contains_key(&name)
            })
            .cloned()
            .collect();
        schemas.extend(todo.iter().map(|t| t.schema.clone()));
        for (table, outcome) in apply_tables(
            db,
            &todo,
            &self.allowed_paths,
            deadline,
            Some(&self.in_flight),
        ) {
            let name = key(&table);
            {
                // A view was just (re)created: a table held in memory loads its copy anew.
                let mut copies = self.copies.lock().expect("catalog copies");
                let previous = match (&outcome, table.cache) {
                    (Ok(()), Cache::Memory { .. }) => copies.insert(
                        name.clone(),
                        MemoryCopy {
                            table: table.clone(),
                            due: Some(Instant::now()),
                            loaded: None,
                            fingerprint: None,
                        },
                    ),
                    _ => copies.remove(&name),
                };
                retired.extend(previous.and_then(|copy| copy.loaded));
            }
            match outcome {
                Ok(()) => {
                    if failed.remove(&name).is_some() {
                        info!(table = %table.qualified(), "catalog table available again");
                    }
                    report.created += 1;
                }
                Err(cause) => {
                    if failed.get(&name) != Some(&cause) {
                        warn!(table = %table.qualified(), location = %table.locations.join(", "), %cause, "catalog table unavailable; queries fail with this cause until a reload succeeds");
                    }
                    failed.insert(name, cause.clone());
                    report.failed.insert(table.qualified(), cause);
                }
            }
        }
        for database in &retired {
            detach(&connection, database);
        }
        // Schemas the catalog created and that are now empty go away (DuckDB refuses to drop
        // a schema that still holds anything, so a schema with other objects stays).
        let used: BTreeSet<String> = new.iter().map(|t| t.schema.clone()).collect();
        schemas.retain(|schema| {
            if used.contains(schema) || schema == "main" {
                return true;
            }
            let _ = connection.execute_batch(&format!(
                "DROP SCHEMA IF EXISTS {}",
                quote_identifier(schema)
            ));
            false
        });
        let mut state = self.state.lock().expect("catalog state");
        if changed {
            state.modified = modified;
        }
        state.retried = Some(Instant::now());
        if changed || report.created > 0 || report.removed > 0 {
            state.tables = Arc::new(new);
            state.generation += 1;
        }
        state.failed = failed;
        state.schemas = schemas;
        if report.applied || report.created > 0 {
            info!(
                file = %file.display(),
                tables = state.tables.len(),
                created = report.created,
                removed = report.removed,
                failed = state.failed.len(),
                "lake catalog applied"
            );
        }
        Ok(report)
    }
}

/// How often tables that could not be opened are retried (besides every change of the file and
/// every SIGHUP).
const FAILED_RETRY: Duration = Duration::from_secs(30);

/// Tables whose views are created at once (each binds, which reads the table's metadata from
/// the object store: latency-bound work).
const PARALLEL_TABLES: usize = 8;

/// Creates the views of `tables` on `db`, several at a time, each on its own connection and
/// thread. A table not done within `deadline` gets a placeholder saying so and is reported as
/// failed; its thread finishes on its own and then installs the real view (or a placeholder with
/// the real cause). Tables in `in_flight` (still opening from an earlier call) are skipped and
/// reported as failed.
pub(crate) fn apply_tables(
    db: &Arc<Database>,
    tables: &[TableDef],
    allowed_paths: &[String],
    deadline: Option<Duration>,
    in_flight: Option<&Arc<Mutex<BTreeSet<String>>>>,
) -> Vec<(TableDef, Result<(), String>)> {
    let mut results = Vec::with_capacity(tables.len());
    // Schemas first, one at a time: concurrent `CREATE SCHEMA IF NOT EXISTS` of the same
    // schema conflict in DuckDB.
    if let Ok(connection) = db.connect() {
        let schemas: BTreeSet<&str> = tables.iter().map(|t| t.schema.as_str()).collect();
        for schema in schemas {
            if let Err(error) = connection.execute_batch(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                quote_identifier(schema)
            )) {
                warn!(%schema, %error, "could not create catalog schema");
            }
        }
    }
    for chunk in tables.chunks(PARALLEL_TABLES) {
        let (tx, rx) = std::sync::mpsc::channel();
        let mut waiting = BTreeMap::new();
        for (index, table) in chunk.iter().enumerate() {
            let name = table.qualified().to_ascii_lowercase();
            if let Some(in_flight) = in_flight {
                if !in_flight.lock().expect("in flight").insert(name.clone()) {
                    results.push((
                        table.clone(),
                        Err("still opening (an earlier attempt has not finished)".to_owned()),
                    ));
                    continue;
                }
            }
            waiting.insert(index, table.clone());
            let (db, table, allowed, thread_tx) = (
                Arc::clone(db),
                table.clone(),
                allowed_paths.to_vec(),
                tx.clone(),
            );
            let in_flight = in_flight.map(Arc::clone);
            let spawned = std::thread::Builder::new()
                .name("tavana-catalog".into())
                .spawn(move || {
                    let outcome = db
                        .connect()
                        .map_err(|e| e.to_string())
                        .and_then(|connection| apply_table(&connection, &table, &allowed));
                    if let Some(in_flight) = in_flight {
                        in_flight.lock().expect("in flight").remove(&name);
                    }
                    let _ = thread_tx.send((index, outcome));
                });
            if let Err(error) = spawned {
                let _ = tx.send((index, Err(format!("could not start a thread: {error}"))));
            }
        }
        drop(tx);
        let until = deadline.map(|d| Instant::now() + d);
        while !waiting.is_empty() {
            let received = match until {
                Some(until) => rx.recv_timeout(until.saturating_duration_since(Instant::now())),
                None => rx
                    .recv()
                    .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected),
            };
            match received {
                Ok((index, outcome)) => {
                    if let Some(table) = waiting.remove(&index) {
                        results.push((table, outcome));
                    }
                }
                Err(_) => break,
            }
        }
        for (_, table) in std::mem::take(&mut waiting) {
            let cause = format!(
                "opening it took longer than {}s (TAVANA_LAKE_OPEN_TIMEOUT_SECS): the object store is unreachable or too slow",
                deadline.unwrap_or_default().as_secs_f64()
            );
            if let Ok(connection) = db.connect() {
                for statement in table.placeholder_statements(&cause) {
                    let _ = connection.execute_batch(&statement);
                }
            }
            results.push((table, Err(cause)));
        }
    }
    results
}

/// Creates one table's view and macros on `connection`; on failure installs the placeholder and
/// returns the cause.
pub(crate) fn apply_table(
    connection: &duckdb::Connection,
    table: &TableDef,
    allowed_paths: &[String],
) -> Result<(), String> {
    let outcome = match table.location_outside(allowed_paths) {
        Some(location) => Err(format!(
            "location {location} is outside the executor's allowed paths (--allowed-path / TAVANA_ALLOWED_PATHS)"
        )),
        None => table
            .create_statements()
            .iter()
            .try_for_each(|statement| connection.execute_batch(statement))
            .map_err(|e| first_line(&e.to_string())),
    };
    if let Err(cause) = &outcome {
        for statement in table.placeholder_statements(cause) {
            if let Err(error) = connection.execute_batch(&statement) {
                warn!(table = %table.qualified(), %error, "could not create placeholder view");
            }
        }
    }
    outcome
}

/// Copies the table into a new in-memory database `database` (compressed: DuckDB compresses
/// in-memory data when it checkpoints, and no one else uses this database yet), then points
/// the table's view at the copy. Returns the rows copied; on failure the database is
/// detached again and the view is as it was.
fn load_copy(
    connection: &duckdb::Connection,
    table: &TableDef,
    database: &str,
) -> Result<usize, String> {
    let attached = quote_identifier(database);
    connection
        .execute_batch(&format!("ATTACH ':memory:' AS {attached} (COMPRESS)"))
        .map_err(|e| first_line(&e.to_string()))?;
    let [create, view, comment] = table.copy_statements(database);
    let outcome = (|| {
        // DuckDB answers CREATE TABLE AS with the number of rows it wrote.
        let rows = connection.query_row(&create, [], |row| row.get::<_, usize>(0))?;
        if let Err(error) = connection.execute_batch(&format!("CHECKPOINT {attached}")) {
            warn!(table = %table.qualified(), %error, "copy in memory not compressed");
        }
        connection.execute_batch("BEGIN TRANSACTION")?;
        let swapped = connection
            .execute_batch(&view)
            .and_then(|()| connection.execute_batch(&comment));
        match swapped {
            Ok(()) => connection.execute_batch("COMMIT")?,
            Err(error) => {
                let _ = connection.execute_batch("ROLLBACK");
                return Err(error);
            }
        }
        Ok(rows)
    })()
    .map_err(|e: duckdb::Error| first_line(&e.to_string()));
    if outcome.is_err() {
        detach(connection, database);
    }
    outcome
}

/// Detaches a copy database; queries still reading it finish first.
fn detach(connection: &duckdb::Connection, database: &str) {
    if let Err(error) = connection.execute_batch(&format!(
        "DETACH DATABASE IF EXISTS {}",
        quote_identifier(database)
    )) {
        warn!(%database, %error, "could not detach a copy in memory");
    }
}

/// DuckDB messages end with a `LINE 1: ...` excerpt of the statement; keep the cause.
fn first_line(message: &str) -> String {
    message
        .split("\n\nLINE ")
        .next()
        .unwrap_or(message)
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
        # Short form.
        [sales]
        orders = "delta, s3://lake/orders"
        customers = { format = "parquet", location = "s3://lake/customers/*/*.parquet", hive_partitioning = true }

        [web.events]
        format = "json"
        location = ["gs://bucket/a.json", "gs://bucket/b.json"]
        comment = "Click stream"
        options = { format = "newline_delimited" }

        [web.visits]
        format = "iceberg"
        location = "s3://lake/visits/metadata/v2.metadata.json"
    "#;

    #[test]
    fn parses_both_forms() {
        let tables = parse_catalog(SAMPLE).unwrap();
        let names: Vec<String> = tables.iter().map(TableDef::qualified).collect();
        assert_eq!(
            names,
            [
                "sales.customers",
                "sales.orders",
                "web.events",
                "web.visits"
            ]
        );
        let orders = &tables[1];
        assert_eq!(orders.format, Format::Delta);
        assert_eq!(orders.locations, ["s3://lake/orders"]);
        assert_eq!(
            orders.create_statements(),
            [
                "CREATE SCHEMA IF NOT EXISTS \"sales\"",
                "CREATE OR REPLACE VIEW \"sales\".\"orders\" AS SELECT * FROM delta_scan('s3://lake/orders')",
                "COMMENT ON VIEW \"sales\".\"orders\" IS 'delta table at s3://lake/orders'",
                "CREATE OR REPLACE MACRO \"sales\".\"orders_at_version\"(v) AS TABLE SELECT * FROM delta_scan('s3://lake/orders', version => v::UBIGINT)",
            ]
        );
        assert_eq!(
            tables[0].create_statements()[1],
            "CREATE OR REPLACE VIEW \"sales\".\"customers\" AS SELECT * FROM read_parquet('s3://lake/customers/*/*.parquet', hive_partitioning => true)"
        );
        assert_eq!(
            tables[2].create_statements()[1],
            "CREATE OR REPLACE VIEW \"web\".\"events\" AS SELECT * FROM read_json(['gs://bucket/a.json', 'gs://bucket/b.json'], format => 'newline_delimited')"
        );
        assert!(tables[2].create_statements()[2].contains("'Click stream (json table at"));
        assert_eq!(
            tables[3].create_statements()[3],
            "CREATE OR REPLACE MACRO \"web\".\"visits_at_snapshot\"(v) AS TABLE SELECT * FROM iceberg_scan('s3://lake/visits/metadata/v2.metadata.json', snapshot_from_id => v::UBIGINT)"
        );
    }

    #[test]
    fn quotes_names_and_locations() {
        let tables =
            parse_catalog("[\"my schema\"]\n\"it's\" = \"csv, /data/o'brien.csv\"").unwrap();
        assert_eq!(
            tables[0].create_statements()[1],
            "CREATE OR REPLACE VIEW \"my schema\".\"it's\" AS SELECT * FROM read_csv('/data/o''brien.csv')"
        );
    }

    #[test]
    fn rejects_bad_catalogs() {
        for (text, expected) in [
            ("[sales]\norders = \"delta\"", "format>, <location>"),
            ("[sales]\norders = \"avro, s3://x/\"", "unknown format"),
            (
                "[sales]\norders = { location = \"s3://x/\" }",
                "format is missing",
            ),
            (
                "[sales]\norders = { format = \"delta\" }",
                "location is missing",
            ),
            (
                "[sales]\norders = { format = \"delta\", location = \"s3://x/\", colour = 1 }",
                "unknown field",
            ),
            (
                "[sales]\norders = \"parquet, data/x.parquet\"",
                "absolute path",
            ),
            ("[information_schema]\nt = \"csv, /x.csv\"", "reserved"),
            (
                "[sales]\norders = \"delta, s3://a/\"\nORDERS = \"delta, s3://b/\"",
                "defined twice",
            ),
            (
                "[sales]\norders = \"delta, s3://a/\"\norders_at_version = \"csv, /x.csv\"",
                "clashes",
            ),
            ("sales = 1", "must be a table"),
            (
                "[sales]\norders = { format = \"delta\", location = [\"s3://a/\", \"s3://b/\"] }",
                "exactly one location",
            ),
            ("[sales\n", "TOML"),
        ] {
            let error = parse_catalog(text).unwrap_err();
            assert!(
                error.contains(expected) || (expected == "TOML" && !error.is_empty()),
                "{text:?}: {error}"
            );
        }
    }

    #[test]
    fn allowed_paths_are_prefixes() {
        let allowed = vec!["s3://lake/".to_string(), "/data".to_string()];
        assert!(is_allowed("s3://lake/orders", &allowed));
        assert!(is_allowed("/data/x/*.parquet", &allowed));
        assert!(!is_allowed("s3://lakehouse/orders", &allowed));
        assert!(!is_allowed("/database/x.csv", &allowed));
        assert!(!is_allowed("gs://lake/orders", &allowed));
    }

    /// The one text column of `sql`'s rows.
    fn names(db: &Database, sql: &str) -> Vec<String> {
        let connection = db.connect().unwrap();
        let mut statement = connection.prepare(sql).unwrap();
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))
            .unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    }

    fn views(db: &Database) -> Vec<String> {
        names(
            db,
            "SELECT schema_name || '.' || view_name FROM duckdb_views() \
             WHERE NOT internal ORDER BY 1",
        )
    }

    #[test]
    fn reload_applies_changes_and_keeps_tables_when_the_file_breaks() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("items.csv");
        std::fs::write(&csv, "id,name\n1,pen\n2,ink\n").unwrap();
        let file = dir.path().join("catalog.toml");
        let write = |text: String| {
            let tmp = dir.path().join("catalog.tmp");
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, &file).unwrap();
        };
        write(format!(
            "[shop]\nitems = \"csv, {0}\"\n[old]\nitems = \"csv, {0}\"\n[broken]\nnope = \"csv, {1}/missing.csv\"\n",
            csv.display(),
            dir.path().display()
        ));
        let db = Arc::new(Database::open_in_memory(&[]).unwrap());
        let allowed = vec![dir.path().display().to_string()];
        let catalog = Catalog::new(Some(file.clone()), allowed);
        let report = catalog
            .reload(&db, false, Some(Duration::from_secs(30)))
            .unwrap();
        assert_eq!(report.created, 2);
        assert_eq!(report.failed.len(), 1);
        assert!(report.failed["broken.nope"].contains("missing.csv"));
        assert_eq!(views(&db), ["broken.nope", "old.items", "shop.items"]);
        // Unchanged file, retry not yet due: nothing happens.
        assert_eq!(
            catalog.reload(&db, false, None).unwrap(),
            ReloadReport::default()
        );

        // Drop a schema's only table, add one elsewhere; mtime granularity needs a moment.
        std::thread::sleep(Duration::from_millis(20));
        write(format!(
            "[shop]\nitems = \"csv, {0}\"\nmore = \"csv, {0}\"\n",
            csv.display()
        ));
        let report = catalog.reload(&db, false, None).unwrap();
        assert_eq!((report.created, report.removed), (1, 2));
        assert_eq!(views(&db), ["shop.items", "shop.more"]);
        let (_, generation) = catalog.snapshot();

        std::thread::sleep(Duration::from_millis(20));
        write("[shop\n".into());
        assert!(catalog.reload(&db, false, None).is_err());
        assert_eq!(views(&db), ["shop.items", "shop.more"]);
        assert_eq!(catalog.snapshot().1, generation);

        // Outside the allowed paths: a placeholder that says so.
        std::thread::sleep(Duration::from_millis(20));
        write("[shop]\netc = \"csv, /etc/hostname\"\n".into());
        let report = catalog.reload(&db, false, None).unwrap();
        assert!(report.failed["shop.etc"].contains("outside the executor's allowed paths"));
    }

    /// The copy databases attached.
    fn copies(db: &Database) -> Vec<String> {
        names(
            db,
            "SELECT database_name FROM duckdb_databases() \
             WHERE starts_with(database_name, 'tavana_copy_') ORDER BY 1",
        )
    }

    fn view_sql(db: &Database, view: &str) -> String {
        db.connect()
            .unwrap()
            .query_row(
                "SELECT sql || ' -- ' || coalesce(comment, '') FROM duckdb_views() WHERE view_name = ?",
                [view],
                |row| row.get(0),
            )
            .unwrap()
    }

    fn count(db: &Database, table: &str) -> Result<i64, String> {
        db.connect()
            .unwrap()
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
                row.get(0)
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn cache_and_refresh_parse() {
        let tables = parse_catalog(
            "[a]\nx = { format = \"csv\", location = \"/d/x.csv\", cache = \"memory\", refresh_secs = 60 }\n\
             y = { format = \"csv\", location = \"/d/y.csv\", cache = \"memory\" }\n\
             z = { format = \"csv\", location = \"/d/z.csv\", cache = \"none\" }\n",
        )
        .unwrap();
        let caches: Vec<Cache> = tables.iter().map(|t| t.cache).collect();
        assert_eq!(
            caches,
            [
                Cache::Memory {
                    refresh: Some(Duration::from_secs(60))
                },
                Cache::Memory { refresh: None },
                Cache::None
            ]
        );
        for (entry, error) in [
            ("cache = \"disk\"", "cache must be \"memory\" or \"none\""),
            (
                "refresh_secs = 60",
                "refresh_secs applies to a table with cache = \"memory\"",
            ),
            (
                "cache = \"memory\", refresh_secs = 0",
                "refresh_secs must be a whole number",
            ),
            (
                "cache = \"memory\", refresh_secs = \"1m\"",
                "refresh_secs must be a whole number",
            ),
        ] {
            let text = format!("[a]\nx = {{ format = \"csv\", location = \"/d/x.csv\", {entry} }}");
            let message = parse_catalog(&text).unwrap_err();
            assert!(
                message.starts_with(&format!("a.x: {error}")),
                "{entry}: {message}"
            );
        }
    }

    #[test]
    fn tables_held_in_memory_load_refresh_and_keep_their_copy_when_the_source_fails() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("items.csv");
        std::fs::write(&csv, "id,name\n1,pen\n2,ink\n").unwrap();
        let file = dir.path().join("catalog.toml");
        let write = |text: String| {
            std::thread::sleep(Duration::from_millis(20)); // mtime granularity
            let tmp = dir.path().join("catalog.tmp");
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, &file).unwrap();
        };
        let cached = |extra: &str| {
            format!(
                "[shop]\nitems = {{ format = \"csv\", location = \"{}\", cache = \"memory\"{extra} }}\n",
                csv.display()
            )
        };
        write(format!(
            "{}plain = \"csv, {}\"\n",
            cached(""),
            csv.display()
        ));
        let db = Arc::new(Database::open_in_memory(&[]).unwrap());
        let catalog = Catalog::new(Some(file.clone()), vec![dir.path().display().to_string()]);
        let report = catalog.reload(&db, false, None).unwrap();
        assert_eq!(report.created, 2);
        // Until its copy is loaded, the table answers from its location.
        assert_eq!(views(&db), ["shop.items", "shop.plain"]);
        assert!(view_sql(&db, "items").contains("read_csv"));
        assert!(catalog.next_copy_due().is_some());
        assert_eq!(
            catalog.load_due_copies(&db),
            [CopyLoad {
                table: "shop.items".into(),
                outcome: CopyOutcome::Loaded(2)
            }]
        );
        // Still a view (it lists like every catalog table), now over the copy.
        assert_eq!(views(&db), ["shop.items", "shop.plain"]);
        assert_eq!(copies(&db), ["tavana_copy_0"]);
        let sql = view_sql(&db, "items");
        assert!(sql.contains("FROM tavana_copy_0.main.items"), "{sql}");
        assert!(sql.ends_with("items.csv, held in memory"), "{sql}");
        assert_eq!(catalog.copies_loaded(), 1);
        assert_eq!(catalog.next_copy_due(), None);

        // The copy does not follow the file; the view over the location does.
        std::fs::write(&csv, "id,name\n1,pen\n2,ink\n3,nib\n").unwrap();
        assert_eq!(count(&db, "shop.items"), Ok(2));
        assert_eq!(count(&db, "shop.plain"), Ok(3));
        assert!(catalog.load_due_copies(&db).is_empty());

        // A forced reload (SIGHUP) reads the location again, then loads a fresh copy.
        catalog.reload(&db, true, None).unwrap();
        assert_eq!(count(&db, "shop.items"), Ok(3));
        assert!(copies(&db).is_empty());
        assert_eq!(
            catalog.load_due_copies(&db)[0].outcome,
            CopyOutcome::Loaded(3)
        );
        assert_eq!(copies(&db), ["tavana_copy_1"]);

        // Refreshed every second: kept while the file is unchanged, replaced when it changes;
        // a refresh that fails keeps the last copy.
        write(cached(", refresh_secs = 1"));
        let report = catalog.reload(&db, false, None).unwrap();
        assert_eq!((report.created, report.removed), (1, 1));
        assert_eq!(
            catalog.load_due_copies(&db)[0].outcome,
            CopyOutcome::Loaded(3)
        );
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(
            catalog.load_due_copies(&db)[0].outcome,
            CopyOutcome::Unchanged
        );
        assert_eq!(copies(&db), ["tavana_copy_2"]);
        std::fs::write(&csv, "id,name\n1,pen\n").unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(
            catalog.load_due_copies(&db)[0].outcome,
            CopyOutcome::Loaded(1)
        );
        assert_eq!(copies(&db), ["tavana_copy_3"]);
        std::fs::remove_file(&csv).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        let failed = catalog.load_due_copies(&db);
        assert!(
            matches!(&failed[0].outcome, CopyOutcome::Failed(e) if e.contains("items.csv")),
            "{failed:?}"
        );
        assert_eq!(count(&db, "shop.items"), Ok(1));
        assert_eq!(copies(&db), ["tavana_copy_3"]);
        assert_eq!(catalog.copies_loaded(), 1);

        // Back to a plain view: the copy goes.
        std::fs::write(&csv, "id,name\n1,pen\n2,ink\n").unwrap();
        write(format!("[shop]\nitems = \"csv, {}\"\n", csv.display()));
        catalog.reload(&db, false, None).unwrap();
        assert!(catalog.load_due_copies(&db).is_empty());
        assert_eq!(count(&db, "shop.items"), Ok(2));
        assert!(copies(&db).is_empty());
        assert_eq!(catalog.copies_loaded(), 0);

        // Removed from the file: view and copy go.
        write(cached(""));
        catalog.reload(&db, false, None).unwrap();
        catalog.load_due_copies(&db);
        assert_eq!(copies(&db).len(), 1);
        write("[other]\n".into());
        let report = catalog.reload(&db, false, None).unwrap();
        assert_eq!(report.removed, 1);
        assert!(views(&db).is_empty() && copies(&db).is_empty());
        assert!(count(&db, "shop.items").is_err());
        assert_eq!(catalog.copies_loaded(), 0);
    }

    #[test]
    fn fingerprints_list_the_files_a_table_reads() {
        let tables = parse_catalog(
            "[a]\nd = \"delta, s3://lake/orders/\"\ni = \"iceberg, s3://lake/visits\"\n\
             f = \"iceberg, s3://lake/visits/metadata/v2.metadata.json\"\n\
             p = { format = \"parquet\", location = [\"/d/1.parquet\", \"/d/2/*.parquet\"] }\n",
        )
        .unwrap();
        let from: Vec<String> = tables
            .iter()
            .map(|t| {
                let sql = t.fingerprint_sql();
                sql[sql.find("read_blob(").unwrap()..].to_owned()
            })
            .collect();
        assert_eq!(
            from,
            [
                "read_blob(['s3://lake/orders/_delta_log/*.json'])",
                "read_blob(['s3://lake/visits/metadata/v2.metadata.json'])",
                "read_blob(['s3://lake/visits/metadata/*'])",
                "read_blob(['/d/1.parquet', '/d/2/*.parquet'])",
            ]
        );
    }

    #[test]
    fn placeholder_names_table_and_cause() {
        let tables = parse_catalog("[sales]\norders = \"delta, s3://lake/orders\"").unwrap();
        let statements = tables[0].placeholder_statements("HTTP 403");
        assert!(statements[1].contains(
            "error('Table sales.orders (delta table at s3://lake/orders) is unavailable: HTTP 403')::VARCHAR"
        ));
        assert_eq!(statements.len(), 3);
        assert_eq!(
            tables[0].drop_statements(),
            [
                "DROP VIEW IF EXISTS \"sales\".\"orders\"",
                "DROP MACRO TABLE IF EXISTS \"sales\".\"orders_at_version\""
            ]
        );
    }
}
