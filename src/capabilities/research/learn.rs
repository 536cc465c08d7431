//! What a page says about an account: the sentences that name it (or, on a page about
//! it, any sentence) and speak of funding, hiring or news, each kept as a fact.

/// What kind of thing a sentence tells, by the words in it.
const TOPICS: [(&str, &[&str]); 3] = [
    (
        "funding",
        &[
            "raised",
            "raises",
            "funding",
            "series a",
            "series b",
            "series c",
            "series d",
            "investment",
            "valuation",
            "ipo",
        ],
    ),
    (
        "hiring",
        &[
            "hiring",
            "is hiring",
            "hires",
            "open roles",
            "recruiting",
            "headcount",
            "new vp",
            "appointed",
            "appoints",
            "joins as",
        ],
    ),
    (
        "news",
        &[
            "launched",
            "launches",
            "acquired",
            "acquires",
            "acquisition",
            "partnership",
            "partners with",
            "opened",
            "opens",
            "expands",
            "expansion",
        ],
    ),
];

/// Longest sentence kept as a fact.
const MAX_SENTENCE: usize = 300;

/// (topic, sentence) for each sentence of `text` that speaks of a topic and names
/// `company` — or any such sentence when the page's `title` names it. At most one
/// sentence per (topic, text), in page order, at most `limit` in all.
pub fn about(company: &str, title: &str, text: &str, limit: usize) -> Vec<(&'static str, String)> {
    let name = company.to_lowercase();
    let first_word = name.split_whitespace().next().unwrap_or("").to_string();
    let page_is_about = !first_word.is_empty() && title.to_lowercase().contains(&first_word);
    let mut out: Vec<(&'static str, String)> = Vec::new();
    for sentence in sentences(text) {
        let lower = sentence.to_lowercase();
        let names =
            lower.contains(&name) || (!first_word.is_empty() && lower.contains(&first_word));
        if !(names || page_is_about) {
            continue;
        }
        if let Some((topic, _)) = TOPICS
            .iter()
            .find(|(_, words)| words.iter().any(|w| contains_word(&lower, w)))
            && !out.iter().any(|(_, s)| *s == sentence)
        {
            out.push((topic, sentence));
            if out.len() >= limit {
                break;
            }
        }
    }
    out
}

fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        let before = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after = text[i + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        before && after
    })
}

/// The sentences of `text`, each trimmed and at most [`MAX_SENTENCE`] characters.
fn sentences(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(['\n', '.', '!', '?'])
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| s.len() > 12)
        .map(|s| s.chars().take(MAX_SENTENCE).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn funding_hiring_and_news_about_the_company_are_found() {
        let text = "Acme Robotics raised $40M in a Series B led by Northstar. The weather was fine.\n\
                    The company is hiring 30 engineers in Austin. It also opened an office in Berlin.";
        let found = about("Acme Robotics", "Acme Robotics raises $40M", text, 10);
        let topics: Vec<&str> = found.iter().map(|(t, _)| *t).collect();
        assert_eq!(topics, ["funding", "hiring", "news"], "{found:?}");
        assert!(found[0].1.starts_with("Acme Robotics raised $40M"));
        // On a page about someone else, only sentences naming the company count.
        let other = about("Acme Robotics", "Tech news roundup", text, 10);
        assert_eq!(other.len(), 1, "{other:?}");
        assert_eq!(other[0].0, "funding");
    }
}
