//! Reading a TOML file so that one pass finds every mistake in it, each with its place: the
//! syntax errors the parser recovers from, then entries whose value does not fit the type
//! (each is noted and dropped so the rest can still be read), and "did you mean" suggestions
//! for misspelt names. Shared by the goal file and the config file; it knows neither schema.

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// At most this many mistakes are reported at once (the rest are counted).
pub const MAX_PROBLEMS: usize = 20;

/// One mistake: where (a byte range of the text) and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub span: Range<usize>,
    pub message: String,
}

/// The candidate closest to `word`, if one is close enough to be a likely misspelling:
/// Damerau-Levenshtein distance (a swap of two letters counts once) of at most a third of
/// the word's length, rounded up, and at most 3. Ties go to the earlier candidate.
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = word.chars().count().div_ceil(3).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// " (did you mean `x`?)" with `quote` around the suggestion, or "" when nothing is close.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    quote: &str,
) -> String {
    suggest(word, candidates)
        .map(|s| format!(" (did you mean {quote}{s}{quote}?)"))
        .unwrap_or_default()
}

/// Parses a document: the tree (as much of it as the parser could read) and the syntax
/// errors, all at once (the parser recovers after each), in file order and at most one per
/// line: the rest of a broken line only repeats it. After an unclosed header or bracket
/// nothing more is kept: the parser's reading of what follows (keys landing in the wrong
/// table, say) would only be a knock-on of that one.
pub fn parse(text: &str) -> (Spanned<DeTable<'_>>, Vec<Problem>) {
    let (doc, errors) = DeTable::parse_recoverable(text);
    let mut problems: Vec<Problem> = errors
        .iter()
        .map(|e| Problem {
            span: e.span().unwrap_or(0..0),
            message: e.message().trim().replace('\n', " "),
        })
        .collect();
    problems.sort_by_key(|p| p.span.start);
    let mut seen_lines = std::collections::HashSet::new();
    problems.retain(|p| seen_lines.insert(line_of(text, p.span.start)));
    if let Some(cut) = problems
        .iter()
        .position(|p| p.message.starts_with("unclosed"))
    {
        problems.truncate(cut + 1);
    }
    (doc, problems)
}

/// Whether the tree [`parse`] read despite `problems` is the file as written, so its other
/// mistakes can be looked for too: true when every problem is a key set twice (the tree
/// keeps the first value). Any other syntax error may have moved what follows it.
pub fn tree_is_sound(problems: &[Problem]) -> bool {
    problems
        .iter()
        .all(|p| p.message.starts_with("duplicate key"))
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = text.floor_char_boundary(offset.min(text.len()));
    text[..end].matches('\n').count()
}

/// Whether `pos` lies inside `v` or anything it holds (a table written as a `[header]`
/// section has the header as its span, its entries elsewhere).
fn holds(v: &Spanned<DeValue<'_>>, pos: usize) -> bool {
    if v.span().contains(&pos) {
        return true;
    }
    match v.get_ref() {
        DeValue::Table(t) => t
            .iter()
            .any(|(k, v)| k.span().contains(&pos) || holds(v, pos)),
        DeValue::Array(a) => a.iter().any(|v| holds(v, pos)),
        _ => false,
    }
}

/// Reads `table` (minus the keys in `skip`) as a `T`. Each entry that stops that (a wrong
/// type, a bad value) becomes a problem and is removed from `table`, and reading goes on
/// without it, so one bad entry never hides the next. Returns each problem with the key it
/// removed (`None`: no one entry was at fault, e.g. a required one is missing; reading
/// stops there).
pub fn sweep<T: DeserializeOwned>(
    table: &mut DeTable<'_>,
    span: Range<usize>,
    skip: &[&str],
) -> Vec<(Option<String>, Problem)> {
    let mut found = Vec::new();
    // Each round removes an entry, so this ends; the bound is a guard, not a limit.
    for _ in 0..=table.len() {
        let view: DeTable<'_> = table
            .iter()
            .filter(|(k, _)| !skip.contains(&k.get_ref().as_ref()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let de = toml::de::Deserializer::from(Spanned::new(span.clone(), view));
        let Err(e) = T::deserialize(de) else {
            return found;
        };
        let at = e.span().unwrap_or(span.clone());
        let problem = Problem {
            span: at.clone(),
            message: e.message().trim().replace('\n', " "),
        };
        let culprit = table
            .iter()
            .find(|(k, v)| {
                !skip.contains(&k.get_ref().as_ref())
                    && (k.span().contains(&at.start) || holds(v, at.start))
            })
            .map(|(k, _)| k.get_ref().to_string());
        let Some(key) = culprit else {
            found.push((None, problem));
            return found;
        };
        table.remove(key.as_str());
        found.push((Some(key), problem));
    }
    found
}

/// The span of `key`'s value in `table`, if it is there.
pub fn value_span(table: &DeTable<'_>, key: &str) -> Option<Range<usize>> {
    table.get(key).map(|v| v.span())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_swaps_and_slips_but_not_other_words() {
        let kinds = ["agent", "human_review", "signal", "group"];
        assert_eq!(suggest("agnet", kinds), Some("agent"));
        assert_eq!(suggest("singal", kinds), Some("signal"));
        assert_eq!(suggest("human_reveiw", kinds), Some("human_review"));
        assert_eq!(suggest("robot", kinds), None);
        assert_eq!(suggest("promt", ["title", "prompt"]), Some("prompt"));
        assert_eq!(suggest("titel", ["title", "prompt"]), Some("title"));
        assert_eq!(suggest("x", ["title"]), None);
        assert_eq!(
            did_you_mean("agnet", kinds, "\""),
            " (did you mean \"agent\"?)"
        );
        assert_eq!(did_you_mean("zzz", kinds, "\""), "");
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)] // read only to see what serde refuses
    struct Two {
        a: Option<u32>,
        b: Option<String>,
        c: Option<bool>,
    }

    #[test]
    fn a_sweep_drops_each_bad_entry_and_keeps_the_good_ones() {
        let text = "a = \"x\"\nb = \"fine\"\nc = 3\n";
        let (mut doc, problems) = parse(text);
        assert!(problems.is_empty(), "{problems:?}");
        let span = doc.span();
        let found = sweep::<Two>(doc.get_mut(), span, &[]);
        let keys: Vec<_> = found.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(keys, [Some("a".to_string()), Some("c".to_string())]);
        assert!(found[0].1.message.starts_with("invalid type"), "{found:?}");
        assert_eq!(&text[found[1].1.span.clone()], "3");
        assert!(doc.get_ref().contains_key("b"));
    }

    #[test]
    fn syntax_errors_come_one_per_line_in_file_order() {
        let text = "a = \nb = 1 2\nc = \"ok\"\nd = [1,\n";
        let (_, problems) = parse(text);
        assert!(!tree_is_sound(&problems));
        let lines: Vec<usize> = problems
            .iter()
            .map(|p| line_of(text, p.span.start))
            .collect();
        let mut sorted = lines.clone();
        sorted.dedup();
        assert_eq!(lines, sorted, "{problems:?}");
        assert!(lines.contains(&0) && lines.contains(&1), "{problems:?}");
    }
}
