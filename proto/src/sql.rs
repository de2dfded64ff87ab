//! SQL tokens, from `sqlparser`'s tokenizer: quoting, `E''` escapes, dollar quoting, nested
//! comments, `$n` parameters, multi-character operators.
//!
//! Tavana looks at statements' tokens, not syntax trees: the pg-adapter to classify and rewrite
//! what PostgreSQL clients send ([`Lexicon::Postgres`]), the front ends to find credential
//! statements and the executors to refuse statements before DuckDB prepares them
//! ([`Lexicon::DuckDb`]). Everything else goes to DuckDB as written, so that DuckDB's own error
//! messages reach the user. Each token keeps its byte span in the statement, so that a rewrite
//! replaces exactly the text it matched.

use sqlparser::dialect::{Dialect, DuckDbDialect, PostgreSqlDialect};
use sqlparser::tokenizer::{Location, Token as SqlToken, TokenWithSpan, Tokenizer};

/// Whose lexical rules a statement is read with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lexicon {
    /// PostgreSQL's: what PostgreSQL clients send.
    Postgres,
    /// DuckDB's: what the executors run.
    DuckDb,
}

impl Lexicon {
    fn dialect(self) -> &'static dyn Dialect {
        match self {
            Lexicon::Postgres => &PostgreSqlDialect {},
            Lexicon::DuckDb => &DuckDbDialect {},
        }
    }
}

/// A lexical token with its byte span in the statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Byte offset of its first byte.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
}

/// A token's kind and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// Unquoted word, lower-cased.
    Word(String),
    /// Double-quoted identifier, case preserved.
    Quoted(String),
    /// String literal, unescaped.
    Str(String),
    /// Numeric literal as written.
    Number(String),
    /// A `$n` parameter placeholder, by its number.
    Param(usize),
    /// An operator or punctuation as written (`(`, `::`, `<>`, `~*`, ...).
    Punct(String),
}

impl Token {
    /// The token as an identifier (words lower-cased, quoted kept).
    pub fn ident(&self) -> Option<String> {
        match &self.kind {
            TokenKind::Word(w) | TokenKind::Quoted(w) => Some(w.clone()),
            _ => None,
        }
    }

    /// Whether the token is the bare word `word` (lower case).
    pub fn is_word(&self, word: &str) -> bool {
        matches!(&self.kind, TokenKind::Word(w) if w == word)
    }

    /// Whether the token is the operator or punctuation `p`.
    pub fn is_punct(&self, p: &str) -> bool {
        matches!(&self.kind, TokenKind::Punct(x) if x == p)
    }

    /// The value of a literal-ish token as SET would take it.
    pub fn value(&self) -> String {
        match &self.kind {
            TokenKind::Word(w)
            | TokenKind::Quoted(w)
            | TokenKind::Str(w)
            | TokenKind::Number(w)
            | TokenKind::Punct(w) => w.clone(),
            TokenKind::Param(n) => format!("${n}"),
        }
    }
}

/// Tokenizes `sql` by `lexicon`'s rules, skipping whitespace and comments. Text the tokenizer
/// cannot read (an unterminated literal or comment) becomes one string token up to the input's
/// end: DuckDB reports the syntax error when the statement goes through.
pub fn tokenize(sql: &str, lexicon: Lexicon) -> Vec<Token> {
    let mut spanned = Vec::new();
    let failed = Tokenizer::new(lexicon.dialect(), sql)
        .tokenize_with_location_into_buf(&mut spanned)
        .is_err();
    let mut offsets = ByteOffsets::new(sql);
    let mut tokens: Vec<Token> = spanned
        .into_iter()
        .filter_map(|spanned| token(sql, &mut offsets, spanned))
        .collect();
    if failed {
        let start = offsets.byte;
        let rest = sql[start..].trim_start();
        if !rest.is_empty() {
            tokens.push(Token {
                kind: TokenKind::Str(rest.to_owned()),
                start: sql.len() - rest.len(),
                end: sql.len(),
            });
        }
    }
    tokens
}

/// One of sqlparser's tokens as the adapter's, or `None` for whitespace and comments.
fn token(sql: &str, offsets: &mut ByteOffsets<'_>, spanned: TokenWithSpan) -> Option<Token> {
    let start = offsets.at(spanned.span.start);
    let end = offsets.at(spanned.span.end);
    let kind = match spanned.token {
        SqlToken::Whitespace(_) | SqlToken::EOF => return None,
        SqlToken::Word(word) if word.quote_style.is_some() => TokenKind::Quoted(word.value),
        SqlToken::Word(word) => TokenKind::Word(word.value.to_lowercase()),
        SqlToken::DoubleQuotedString(s) => TokenKind::Quoted(s),
        SqlToken::Number(..) => TokenKind::Number(sql[start..end].to_owned()),
        SqlToken::Placeholder(p) => match p.strip_prefix('$').and_then(|n| n.parse().ok()) {
            Some(n) => TokenKind::Param(n),
            None => TokenKind::Punct(p),
        },
        SqlToken::SingleQuotedString(s)
        | SqlToken::EscapedStringLiteral(s)
        | SqlToken::UnicodeStringLiteral(s)
        | SqlToken::NationalStringLiteral(s)
        | SqlToken::HexStringLiteral(s)
        | SqlToken::SingleQuotedByteStringLiteral(s) => TokenKind::Str(s),
        SqlToken::DollarQuotedString(s) => TokenKind::Str(s.value),
        _ => TokenKind::Punct(sql[start..end].to_owned()),
    };
    Some(Token { kind, start, end })
}

/// Turns sqlparser's (line, column) locations, which count characters from 1, into byte
/// offsets. Locations must be asked for in order, as tokens come.
struct ByteOffsets<'a> {
    chars: std::str::CharIndices<'a>,
    len: usize,
    line: u64,
    column: u64,
    byte: usize,
}

impl<'a> ByteOffsets<'a> {
    fn new(sql: &'a str) -> Self {
        ByteOffsets {
            chars: sql.char_indices(),
            len: sql.len(),
            line: 1,
            column: 1,
            byte: 0,
        }
    }

    fn at(&mut self, location: Location) -> usize {
        while (self.line, self.column) < (location.line, location.column) {
            let Some((_, c)) = self.chars.next() else {
                break;
            };
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
            self.byte = self.chars.offset();
        }
        self.byte.min(self.len)
    }
}

/// Splits a string of statements at top-level semicolons. Empty statements are dropped.
pub fn split_statements(sql: &str, lexicon: Lexicon) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    // Whether a token (not only whitespace and comments) came since the last `;`.
    let mut any = false;
    for token in tokenize(sql, lexicon) {
        if token.is_punct(";") {
            if any {
                out.push(sql[start..token.start].trim());
            }
            start = token.end;
            any = false;
        } else {
            any = true;
        }
    }
    if any {
        out.push(sql[start..].trim());
    }
    out
}

/// The first `n` bare words of `sql`, lower-cased, up to its first other token; whitespace,
/// comments and opening parentheses before the first word are skipped. Reads a prefix of a long
/// statement when the words are in it.
pub fn leading_words(sql: &str, n: usize, lexicon: Lexicon) -> Vec<String> {
    const PREFIX_BYTES: usize = 1024;
    let mut end = sql.len().min(PREFIX_BYTES);
    while !sql.is_char_boundary(end) {
        end += 1;
    }
    let (words, settled) = words_of(&sql[..end], n, lexicon);
    if settled || end == sql.len() {
        words
    } else {
        words_of(sql, n, lexicon).0
    }
}

/// [`leading_words`] of `text`, and whether they are settled: the `n`th word, or another token
/// after the words, ends before the text does (a token at its end may have been cut off).
fn words_of(text: &str, n: usize, lexicon: Lexicon) -> (Vec<String>, bool) {
    let tokens = tokenize(text, lexicon);
    let mut words = Vec::new();
    for token in &tokens {
        let settled = token.end < text.len();
        match &token.kind {
            TokenKind::Word(word) => {
                words.push(word.clone());
                if words.len() == n {
                    return (words, settled);
                }
            }
            TokenKind::Punct(p) if p == "(" && words.is_empty() => {}
            _ => return (words, settled),
        }
    }
    (words, false)
}

/// Whether `sql` is `CREATE [OR REPLACE] [PERSISTENT | TEMP | TEMPORARY] SECRET ...`.
pub fn is_create_secret(sql: &str) -> bool {
    starts_create_secret(&leading_words(sql, 6, Lexicon::DuckDb))
}

/// Whether a statement's [`leading_words`] (six are enough) begin `CREATE ... SECRET`.
pub fn starts_create_secret(words: &[String]) -> bool {
    let mut words = words.iter().map(String::as_str).peekable();
    if words.next() != Some("create") {
        return false;
    }
    if words.peek() == Some(&"or") {
        words.next();
        words.next();
    }
    if words
        .peek()
        .is_some_and(|w| matches!(*w, "persistent" | "temp" | "temporary"))
    {
        words.next();
    }
    words.next() == Some("secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<TokenKind> {
        tokenize(sql, Lexicon::Postgres)
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn spans(sql: &str) -> Vec<&str> {
        tokenize(sql, Lexicon::Postgres)
            .into_iter()
            .map(|t| &sql[t.start..t.end])
            .collect()
    }

    #[test]
    fn spans_are_bytes_across_lines_and_multibyte_text() {
        let sql = "SELECT 'é', \"Ünï\"\n  FROM t -- ç\n WHERE x <> $1::int[]";
        assert_eq!(
            spans(sql),
            vec![
                "SELECT",
                "'é'",
                ",",
                "\"Ünï\"",
                "FROM",
                "t",
                "WHERE",
                "x",
                "<>",
                "$1",
                "::",
                "int",
                "[",
                "]"
            ]
        );
    }

    #[test]
    fn literals_are_unescaped_and_words_lower_cased() {
        use TokenKind::*;
        assert_eq!(
            kinds("Select 'it''s', E'a\\'b', $tag$ x $$ $tag$, \"Mixed\"\"q\", 1.5e3, $12"),
            vec![
                Word("select".into()),
                Str("it's".into()),
                Punct(",".into()),
                Str("a'b".into()),
                Punct(",".into()),
                Str(" x $$ ".into()),
                Punct(",".into()),
                Quoted("Mixed\"q".into()),
                Punct(",".into()),
                Number("1.5e3".into()),
                Punct(",".into()),
                Param(12),
            ]
        );
    }

    #[test]
    fn operators_are_one_token() {
        assert_eq!(
            spans("a !~* b ~ c || d != e <= f ->> 'g' /* a /* nested */ comment */ |/ h"),
            vec![
                "a", "!~*", "b", "~", "c", "||", "d", "!=", "e", "<=", "f", "->>", "'g'", "|/", "h"
            ]
        );
    }

    #[test]
    fn unreadable_text_runs_to_the_end() {
        let tokens = tokenize("SELECT 1; SELECT 'open ; x", Lexicon::Postgres);
        let last = tokens.last().unwrap();
        assert_eq!(last.kind, TokenKind::Str("'open ; x".into()));
        assert_eq!(last.end, "SELECT 1; SELECT 'open ; x".len());
        assert_eq!(
            split_statements("SELECT 1; SELECT 'open ; x", Lexicon::Postgres),
            vec!["SELECT 1", "SELECT 'open ; x"]
        );
        assert_eq!(
            split_statements("SELECT 1 /* open ; x", Lexicon::Postgres),
            vec!["SELECT 1 /* open ; x"]
        );
    }

    #[test]
    fn splits_statements_respecting_quotes_and_comments() {
        let sql = "select ';' as a; -- c;\n select $x$;$x$; /* ; */ select \"a;b\";;";
        assert_eq!(
            split_statements(sql, Lexicon::Postgres),
            vec![
                "select ';' as a",
                "-- c;\n select $x$;$x$",
                "/* ; */ select \"a;b\""
            ]
        );
        assert!(split_statements(" ; -- only\n", Lexicon::Postgres).is_empty());
        assert_eq!(
            split_statements("select $1", Lexicon::Postgres),
            vec!["select $1"]
        );
    }
}
