//! SQL types that DuckDB's Arrow export flattens to plain strings, marked in the field metadata
//! so clients (the pg-adapter above all) can still present them as what they are.
//!
//! DuckDB exports `UUID` and `JSON` columns as Arrow `Utf8`, which is also what in-process
//! DuckDB gives Arrow users, so the values stay strings. `JSON` becomes the canonical
//! `arrow.json` extension type (its storage is `Utf8`). `UUID` cannot: the canonical
//! `arrow.uuid` needs 16-byte binary storage, and clients reject it on strings, so it is named
//! under [`SQL_TYPE_KEY`] instead. Only top-level columns are marked.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::datatypes::{Field, Schema, SchemaRef};

pub use tavana_proto::SQL_TYPE_METADATA_KEY as SQL_TYPE_KEY;

const EXTENSION_NAME_KEY: &str = "ARROW:extension:name";
const EXTENSION_METADATA_KEY: &str = "ARROW:extension:metadata";

/// What DuckDB knows about one result column that Arrow does not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnTag {
    Uuid,
    Json,
}

impl ColumnTag {
    /// The tag for a DuckDB logical type, from its type id and alias.
    pub(crate) fn of(is_uuid: bool, alias: Option<&str>) -> Option<Self> {
        if is_uuid {
            Some(Self::Uuid)
        } else if alias.is_some_and(|alias| alias.eq_ignore_ascii_case("JSON")) {
            Some(Self::Json)
        } else {
            None
        }
    }

    fn metadata(self) -> HashMap<String, String> {
        match self {
            Self::Uuid => HashMap::from([(SQL_TYPE_KEY.to_owned(), "uuid".to_owned())]),
            Self::Json => HashMap::from([
                (EXTENSION_NAME_KEY.to_owned(), "arrow.json".to_owned()),
                (EXTENSION_METADATA_KEY.to_owned(), String::new()),
            ]),
        }
    }
}

/// `schema` with each tagged column's metadata set; the same `Arc` when nothing is tagged.
pub(crate) fn tag_schema(schema: SchemaRef, tags: &[Option<ColumnTag>]) -> SchemaRef {
    if tags.iter().all(Option::is_none) || tags.len() != schema.fields().len() {
        return schema;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(tags)
        .map(|(field, tag)| match tag {
            Some(tag) if field.data_type().is_string() => {
                let mut metadata = field.metadata().clone();
                metadata.extend(tag.metadata());
                field.as_ref().clone().with_metadata(metadata)
            }
            _ => field.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::DataType;

    #[test]
    fn marks_uuid_and_json_strings_only() {
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("u", DataType::Utf8, true),
            Field::new("j", DataType::Utf8, true),
            Field::new("n", DataType::Int64, true),
        ]));
        let tags = [
            ColumnTag::of(true, None),
            ColumnTag::of(false, Some("json")),
            ColumnTag::of(false, None),
        ];
        let tagged = tag_schema(Arc::clone(&schema), &tags);
        assert_eq!(
            tagged
                .field(0)
                .metadata()
                .get(SQL_TYPE_KEY)
                .map(String::as_str),
            Some("uuid")
        );
        assert_eq!(tagged.field(1).extension_type_name(), Some("arrow.json"));
        assert!(tagged.field(2).metadata().is_empty());
        // Batches built on the plain schema can take the tagged one.
        assert!(tagged.contains(&schema));

        let untouched = tag_schema(Arc::clone(&schema), &[None, None, None]);
        assert!(Arc::ptr_eq(&untouched, &schema));
    }
}
