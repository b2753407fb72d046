//! Address text made comparable: the same normal form for what a call-taker types and for
//! what the map says, Russian first, and German, Finnish and English.
//!
//! * [`fold`]: Unicode NFC, lower case, `ё` = `е`, `ß` = `ss`; punctuation is a space
//!   (but `/` between digits, as in `12/2`);
//! * [`tokens`]: words and numbers, a number and a letter written together split
//!   (`4к2` → `4`, `к`, `2`), hyphenated abbreviations (`пр-т`, `б-р`, `пр-д`) kept whole;
//! * [`street_type`]: the kind of street a word names, in any of its forms (`ул.`, `улица`;
//!   `пр.`, `пр-т`, `просп.`, `проспект`; `str.`, `straße`, `strasse`; `st`, `street`, ...),
//!   and German compounds folded (`Hauptstraße`, `Hauptstrasse`, `Hauptstr.` → `hauptstr`);
//! * [`parse_query`]: a typed address split into the street's name words, its type, and
//!   the house: number with its letter or fraction (`27А`, `12/2`), корпус (`к.`, `корп.`),
//!   строение (`с`, `стр.`), entrance (`под.`, `подъезд`); `д.`/`дом`, `г.`, `кв.` are
//!   understood and left out;
//! * [`parse_house`]: a map's `addr:housenumber` (`4 с3`, `4к2`, `27А`, `12/2`) read the
//!   same way.

use unicode_normalization::UnicodeNormalization;

/// The longest query read, characters; the rest is ignored.
pub const MAX_QUERY_CHARS: usize = 200;

/// Lower case, NFC, `ё` = `е`, `ß` = `ss`; every character that is not a letter, a digit,
/// `/` or `-` becomes a space.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.nfc().flat_map(char::to_lowercase) {
        match c {
            'ё' => out.push('е'),
            'ß' => out.push_str("ss"),
            c if c.is_alphanumeric() || c == '/' || c == '-' => out.push(c),
            _ => out.push(' '),
        }
    }
    out
}

/// A piece of address text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    /// Letters (any script).
    Word(String),
    /// Digits, perhaps with a fraction (`12/2`).
    Number(String),
}

/// The words and numbers of `text` (see the module's docs).
pub fn tokens(text: &str) -> Vec<Token> {
    let folded = fold(text);
    let mut out = Vec::new();
    for chunk in folded.split_whitespace() {
        // Hyphenated abbreviations are one word.
        if let Some(word) = hyphenated(chunk) {
            out.push(Token::Word(word.to_string()));
            continue;
        }
        // An ordinal (`45th`, `1-я`, `2-й`) is a name word.
        if let Some(number) = ordinal(chunk) {
            out.push(Token::Word(number.to_string()));
            continue;
        }
        let start = out.len();
        split_chunk(chunk, &mut out);
        // `27ас1`: the letter `а` and строение 1.
        if let [Token::Number(_), Token::Word(w), Token::Number(_)] = &out[start..] {
            let mut chars = w.chars();
            if let (Some(letter), Some(m), None) = (chars.next(), chars.next(), chars.next()) {
                if matches!(m, 'к' | 'с') {
                    out[start + 1] = Token::Word(letter.to_string());
                    out.insert(start + 2, Token::Word(m.to_string()));
                }
            }
        }
    }
    out
}

/// The number of an ordinal written as one chunk: `45th`, `1st`, `1-я`, `2-й`, `3-е`.
fn ordinal(chunk: &str) -> Option<&str> {
    let digits = chunk.find(|c: char| !c.is_ascii_digit())?;
    if digits == 0 {
        return None;
    }
    let (number, rest) = chunk.split_at(digits);
    let ok = match rest.strip_prefix('-') {
        Some(suffix) => is_ordinal_suffix(suffix),
        None => matches!(
            rest,
            "st" | "nd" | "rd" | "th" | "я" | "й" | "го" | "ая" | "ий" | "ый" | "ой" | "ья"
        ),
    };
    ok.then_some(number)
}

/// `пр-т`, `б-р`, `пр-д` (with a trailing dot already gone) as their full words.
fn hyphenated(chunk: &str) -> Option<&'static str> {
    match chunk {
        "пр-т" | "пр-кт" => Some("проспект"),
        "б-р" => Some("бульвар"),
        "пр-д" => Some("проезд"),
        "ш-се" => Some("шоссе"),
        _ => None,
    }
}

/// Splits a chunk at hyphens, and between letters and digits; `/` joins digits.
fn split_chunk(chunk: &str, out: &mut Vec<Token>) {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Letter,
        Digit,
    }
    let mut current = String::new();
    let mut class: Option<Class> = None;
    let flush = |current: &mut String, class: Option<Class>, out: &mut Vec<Token>| {
        let s = std::mem::take(current);
        let s = s.trim_end_matches('/').to_string();
        if s.is_empty() {
            return;
        }
        out.push(match class {
            Some(Class::Digit) => Token::Number(s),
            _ => Token::Word(s),
        });
    };
    for c in chunk.chars() {
        let next = if c.is_numeric() {
            Some(Class::Digit)
        } else if c.is_alphabetic() {
            Some(Class::Letter)
        } else if c == '/' && class == Some(Class::Digit) && !current.contains('/') {
            current.push('/');
            continue;
        } else {
            None
        };
        if next != class || next.is_none() {
            flush(&mut current, class, out);
        }
        class = next;
        if next.is_some() {
            current.push(c);
        }
    }
    flush(&mut current, class, out);
}

/// The canonical kind of street a word names, in any of its written forms.
pub fn street_type(word: &str) -> Option<&'static str> {
    Some(match word {
        "ул" | "улица" => "улица",
        "пр" | "просп" | "пркт" | "проспект" => "проспект",
        "пер" | "переулок" => "переулок",
        "ш" | "шоссе" => "шоссе",
        "бул" | "бульв" | "бульвар" => "бульвар",
        "наб" | "набережная" => "набережная",
        "пл" | "площадь" => "площадь",
        "проезд" => "проезд",
        "туп" | "тупик" => "тупик",
        "ал" | "аллея" => "аллея",
        "мкр" | "мкрн" | "микрорайон" => "микрорайон",
        "str" | "strasse" | "straße" => "str",
        "st" | "street" => "street",
        "ave" | "av" | "avenue" => "avenue",
        "rd" | "road" => "road",
        "blvd" | "boulevard" => "boulevard",
        "dr" | "drive" => "drive",
        "ln" | "lane" => "lane",
        "ct" | "court" => "court",
        "pl" | "place" => "place",
        "ter" | "terrace" => "terrace",
        "hwy" | "highway" => "highway",
        "pkwy" | "parkway" => "parkway",
        "sq" | "square" => "square",
        _ => return None,
    })
}

/// English compass words, in one form.
fn direction(word: &str) -> Option<&'static str> {
    Some(match word {
        "n" | "north" => "north",
        "s" | "south" => "south",
        "e" | "east" => "east",
        "w" | "west" => "west",
        _ => return None,
    })
}

/// A name word in its one form: German `…straße`, `…strasse`, `…str` compounds as `…str`
/// (so `hauptstr` finds `Hauptstraße`), English compass words spelt out.
pub fn name_word(word: &str) -> String {
    for suffix in ["strasse", "straße"] {
        if let Some(stem) = word.strip_suffix(suffix) {
            if !stem.is_empty() {
                return format!("{stem}str");
            }
        }
    }
    if let Some(d) = direction(word) {
        return d.to_string();
    }
    word.to_string()
}

/// Ordinal endings after a number in a street's name (`1-я`, `2-й`, `3-го`).
fn is_ordinal_suffix(word: &str) -> bool {
    matches!(
        word,
        "я" | "й" | "ая" | "яя" | "ий" | "ой" | "ый" | "го" | "е" | "ое" | "ья"
    )
}

/// A street's name as the index keeps it: its type (when a word names one) and its other
/// words in their one form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    /// The canonical street type (`улица`, `str`, `street`, ...).
    pub kind: Option<&'static str>,
    /// The other words (and ordinal numbers), in order.
    pub words: Vec<String>,
}

/// The normal form of a street's or a place's name.
pub fn parse_name(name: &str) -> Name {
    let toks = tokens(name);
    let mut raw = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Token::Word(w) => raw.push(w.clone()),
            Token::Number(n) => {
                if matches!(toks.get(i + 1), Some(Token::Word(w)) if is_ordinal_suffix(w)) {
                    i += 1;
                }
                raw.push(n.clone());
            }
        }
        i += 1;
    }
    name_from(raw)
}

/// The name of raw words: the last word naming a street type is its kind (when there are
/// other words), the others in their one form; a German compound ending in `str` also says
/// the type.
fn name_from(raw: Vec<String>) -> Name {
    let kind_at = if raw.len() > 1 {
        raw.iter().rposition(|w| street_type(w).is_some())
    } else {
        None
    };
    let mut out = Name {
        kind: kind_at.and_then(|k| street_type(&raw[k])),
        words: Vec::with_capacity(raw.len()),
    };
    for (i, w) in raw.iter().enumerate() {
        if Some(i) == kind_at {
            continue;
        }
        let word = match street_type(w) {
            Some(t) => t.to_string(),
            None => name_word(w),
        };
        if out.kind.is_none() && word.chars().count() > 3 && word.ends_with("str") {
            out.kind = Some("str");
        }
        out.words.push(word);
    }
    out
}

/// A house as written: number, letter or fraction, корпус, строение, entrance.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct House {
    /// Digits, perhaps with a fraction (`12/2`).
    pub number: String,
    /// A letter after the number (`а` of `27А`), lower case.
    pub letter: Option<String>,
    /// Корпус (`к2`).
    pub block: Option<String>,
    /// Строение (`с3`, `стр. 3`).
    pub building: Option<String>,
    /// Подъезд.
    pub entrance: Option<String>,
}

/// What a marker word introduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    House,
    Block,
    Building,
    Entrance,
    Flat,
    City,
}

fn marker(word: &str) -> Option<Marker> {
    Some(match word {
        "д" | "дом" => Marker::House,
        "к" | "корп" | "корпус" | "k" => Marker::Block,
        "с" | "стр" | "строение" => Marker::Building,
        "под" | "подъезд" | "п" | "entrance" => Marker::Entrance,
        "кв" | "квартира" | "apt" | "офис" | "оф" => Marker::Flat,
        "г" | "город" => Marker::City,
        _ => return None,
    })
}

/// A typed address: the street's name and the house.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    /// The street's (or place's) name words.
    pub name: Name,
    /// The house, when a number was given.
    pub house: Option<House>,
}

/// Reads a typed address (see the module's docs). At most [`MAX_QUERY_CHARS`] characters
/// are read.
pub fn parse_query(text: &str) -> Query {
    let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
    let toks = tokens(&text);
    let mut q = Query::default();
    // Name words with their token positions.
    let mut raw: Vec<(usize, String)> = Vec::new();
    // Numbers not introduced by a marker: the last is the house, earlier ones name words.
    let mut free: Vec<usize> = Vec::new();
    let mut house = House::default();
    let mut explicit_house: Option<usize> = None;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Token::Word(w) => {
                let next_number = match toks.get(i + 1) {
                    Some(Token::Number(n)) => Some(n.clone()),
                    _ => None,
                };
                match (marker(w), next_number) {
                    (Some(Marker::House), Some(_)) => {
                        explicit_house = Some(i + 1);
                        i += 1;
                    }
                    (Some(Marker::Block), Some(n)) if has_number(&free, explicit_house) => {
                        house.block = Some(n);
                        i += 1;
                    }
                    (Some(Marker::Building), Some(n)) if has_number(&free, explicit_house) => {
                        house.building = Some(n);
                        i += 1;
                    }
                    (Some(Marker::Entrance), Some(n)) => {
                        house.entrance = Some(n);
                        i += 1;
                    }
                    (Some(Marker::Flat), Some(_)) => i += 1,
                    (
                        Some(Marker::City | Marker::House | Marker::Flat | Marker::Entrance),
                        None,
                    ) if w.chars().count() > 1 || w == "д" || w == "г" => {}
                    _ => raw.push((i, w.clone())),
                }
            }
            Token::Number(_) => {
                let ordinal =
                    matches!(toks.get(i + 1), Some(Token::Word(w)) if is_ordinal_suffix(w));
                if ordinal {
                    if let Token::Number(n) = &toks[i] {
                        raw.push((i, n.clone()));
                    }
                    i += 1;
                } else {
                    free.push(i);
                }
            }
        }
        i += 1;
    }
    let house_at = explicit_house.or_else(|| free.last().copied());
    for &f in &free {
        if Some(f) != house_at {
            if let Token::Number(n) = &toks[f] {
                raw.push((f, n.clone()));
            }
        }
    }
    if let Some(at) = house_at {
        if let Token::Number(n) = &toks[at] {
            house.number = n.clone();
        }
        // A lone letter right after the number (not a marker before a number) is its letter.
        // (Unless the number opens the text and words follow: `100 N Charles St`.)
        if let Some(Token::Word(w)) = toks.get(at + 1) {
            let before_number = matches!(toks.get(at + 2), Some(Token::Number(_)));
            let then_words =
                matches!(toks.get(at + 2), Some(Token::Word(x)) if marker(x).is_none());
            if w.chars().count() == 1
                && !(marker(w).is_some() && before_number)
                && !(at == 0 && then_words)
            {
                house.letter = Some(w.clone());
                // It was taken as a name word: take it back.
                raw.retain(|(at_word, _)| *at_word != at + 1);
            }
        }
        q.house = Some(house);
    }
    raw.sort_by_key(|(at, _)| *at);
    q.name = name_from(raw.into_iter().map(|(_, w)| w).collect());
    q
}

fn has_number(free: &[usize], explicit: Option<usize>) -> bool {
    !free.is_empty() || explicit.is_some()
}

/// Reads an `addr:housenumber` (`4`, `27А`, `12/2`, `4к2`, `4 с3`, `4 к2 с1`); `None` when
/// it is not one house in these forms (`15-17`, `7 B, sisäpiha`: see [`leading_number`]).
pub fn parse_house(text: &str) -> Option<House> {
    let toks = tokens(text);
    let mut it = toks.iter().peekable();
    let number = match it.next()? {
        Token::Number(n) => n.clone(),
        Token::Word(_) => return None,
    };
    let mut house = House {
        number,
        ..House::default()
    };
    while let Some(t) = it.next() {
        let Token::Word(w) = t else { return None };
        let next = match it.peek() {
            Some(Token::Number(n)) => Some(n.clone()),
            _ => None,
        };
        match (marker(w), next) {
            (Some(Marker::Block), Some(n)) if house.block.is_none() => {
                house.block = Some(n);
                it.next();
            }
            (Some(Marker::Building), Some(n)) if house.building.is_none() => {
                house.building = Some(n);
                it.next();
            }
            (_, None)
                if w.chars().count() == 1
                    && house.letter.is_none()
                    && house.block.is_none()
                    && house.building.is_none() =>
            {
                house.letter = Some(w.clone());
            }
            _ => return None,
        }
    }
    Some(house)
}

/// The number an `addr:housenumber` opens with (`15` of `15-17`), if it does.
pub fn leading_number(text: &str) -> Option<String> {
    match tokens(text).into_iter().next()? {
        Token::Number(n) => Some(n),
        Token::Word(_) => None,
    }
}

/// Damerau–Levenshtein distance of at most one, for words of at least five letters.
pub fn one_typo(a: &str, b: &str) -> bool {
    let (la, lb) = (a.chars().count(), b.chars().count());
    la.min(lb) >= 5 && la.abs_diff(lb) <= 1 && strsim::damerau_levenshtein(a, b) <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn house(number: &str) -> House {
        House {
            number: number.into(),
            ..House::default()
        }
    }

    fn q(words: &[&str], kind: Option<&'static str>, house: Option<House>) -> Query {
        Query {
            name: Name {
                kind,
                words: words.iter().map(|w| w.to_string()).collect(),
            },
            house,
        }
    }

    #[test]
    fn folding_ignores_case_punctuation_and_yo() {
        assert_eq!(fold("Ул. Тёплая,  Д.4"), "ул  теплая   д 4");
        assert_eq!(fold("Hauptstraße"), "hauptstrasse");
        assert_eq!(fold("e\u{0301}"), "é");
        // Decomposed ё (е + combining diaeresis) is ё after NFC, then е.
        assert_eq!(fold("е\u{0308}лка"), "елка");
    }

    #[test]
    fn numbers_and_letters_written_together_are_split() {
        use Token::*;
        assert_eq!(
            tokens("4к2"),
            vec![Number("4".into()), Word("к".into()), Number("2".into())]
        );
        assert_eq!(tokens("12/2"), vec![Number("12/2".into())]);
        assert_eq!(
            tokens("пр-т Мира"),
            vec![Word("проспект".into()), Word("мира".into())]
        );
        assert_eq!(
            tokens("Ново-Басманная"),
            vec![Word("ново".into()), Word("басманная".into())]
        );
    }

    #[test]
    fn russian_addresses_in_any_order_and_form_read_the_same() {
        let expected = q(
            &["гончарова"],
            Some("улица"),
            Some(House {
                building: Some("3".into()),
                ..house("4")
            }),
        );
        for text in [
            "ул. Гончарова, д. 4, стр. 3",
            "улица Гончарова 4 с3",
            "Гончарова улица, дом 4, строение 3",
            "гончарова ул 4с3",
            "Гончарова ул., 4 стр 3",
        ] {
            assert_eq!(parse_query(text), expected, "{text}");
        }
        let block = q(
            &["мира"],
            Some("проспект"),
            Some(House {
                block: Some("2".into()),
                ..house("4")
            }),
        );
        for text in [
            "пр-т Мира, 4к2",
            "просп. Мира д.4 корп.2",
            "Мира проспект 4 к 2",
        ] {
            assert_eq!(parse_query(text), block, "{text}");
        }
    }

    #[test]
    fn street_types_have_one_form() {
        for (a, b) in [
            ("пер.", "переулок"),
            ("ш.", "шоссе"),
            ("б-р", "бульвар"),
            ("наб.", "набережная"),
            ("пл.", "площадь"),
            ("str.", "straße"),
            ("st", "street"),
            ("ave", "avenue"),
            ("rd", "road"),
        ] {
            assert_eq!(
                parse_name(&format!("{a} Foo")).kind,
                parse_name(&format!("{b} Foo")).kind,
                "{a} {b}"
            );
            assert!(parse_name(&format!("{a} Foo")).kind.is_some(), "{a}");
        }
    }

    #[test]
    fn house_numbers_with_letters_and_fractions() {
        assert_eq!(
            parse_query("Ленина 27А").house,
            Some(House {
                letter: Some("а".into()),
                ..house("27")
            })
        );
        assert_eq!(parse_query("Ленина 27а"), parse_query("ленина 27 А"));
        assert_eq!(parse_query("Ленина 12/2").house, Some(house("12/2")));
        assert_eq!(parse_house("12/2"), Some(house("12/2")));
        assert_eq!(
            parse_house("27А"),
            Some(House {
                letter: Some("а".into()),
                ..house("27")
            })
        );
        assert_eq!(
            parse_house("4 к2 с1"),
            Some(House {
                block: Some("2".into()),
                building: Some("1".into()),
                ..house("4")
            })
        );
        assert_eq!(parse_house("4с3"), parse_query("x д. 4, стр. 3").house);
        assert_eq!(parse_house("ЖК Солнце"), None);
        assert_eq!(parse_house("15-17"), None);
        assert_eq!(leading_number("15-17").as_deref(), Some("15"));
        assert_eq!(parse_house("7 B, sisäpiha"), None);
    }

    #[test]
    fn german_compounds_english_abbreviations_and_ordinals() {
        assert_eq!(parse_query("Hauptstraße 100"), parse_query("hauptstr 100"));
        assert_eq!(
            parse_query("Hauptstraße 100"),
            parse_query("Hauptstrasse 100")
        );
        assert_eq!(parse_name("Hauptstraße").words, vec!["hauptstr"]);
        assert_eq!(
            parse_query("100 N Charles St"),
            parse_query("100 North Charles Street")
        );
        assert_eq!(
            parse_query("1-я Тверская-Ямская ул., 5"),
            q(
                &["1", "тверская", "ямская"],
                Some("улица"),
                Some(house("5"))
            )
        );
        assert_eq!(
            parse_name("1-я Тверская-Ямская улица").words,
            vec!["1", "тверская", "ямская"]
        );
        assert_eq!(
            parse_query("500 45th Street"),
            q(&["45"], Some("street"), Some(house("500")))
        );
        assert_eq!(
            parse_query("улица Добролюбова 27ас1").house,
            Some(House {
                letter: Some("а".into()),
                building: Some("1".into()),
                ..house("27")
            })
        );
        assert_eq!(
            parse_query("Mannerheimintie 5"),
            q(&["mannerheimintie"], None, Some(house("5")))
        );
    }

    #[test]
    fn strange_input_gives_an_empty_or_partial_query() {
        assert_eq!(parse_query(""), Query::default());
        assert_eq!(parse_query("..., ;;; !!"), Query::default());
        assert_eq!(parse_query("\u{0}\u{7}\n\t"), Query::default());
        let long = "ул. Гончарова ".repeat(1000);
        assert!(parse_query(&long).name.words.len() <= MAX_QUERY_CHARS);
        assert_eq!(parse_query("д. к. с.").house, None);
    }

    #[test]
    fn one_typo_is_forgiven_in_long_words_only() {
        assert!(one_typo("гончарова", "гнчарова"));
        assert!(one_typo("гончарова", "гончраова"));
        assert!(one_typo("mannerheimintie", "mannerheimintei"));
        assert!(!one_typo("гончарова", "гнчраова"));
        assert!(!one_typo("мира", "мора"));
    }
}
