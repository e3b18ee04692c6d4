//! SCIM filters (RFC 7644 §3.4.2.2) over the User attributes Starship
//! knows, parsed into a tree the store turns into SQL with bound values.
//! Also the attribute paths of PATCH operations, value filters included
//! (`emails[type eq "work"].value`).

use std::fmt;

/// The User attributes a filter, a sort or a PATCH path may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    Id,
    UserName,
    EmailsValue,
    ExternalId,
    GivenName,
    FamilyName,
    DisplayName,
    Active,
    Created,
    LastModified,
    /// A Group's `members.value`: the id of a member.
    MembersValue,
}

impl Attr {
    /// Case-insensitive, with or without the core User schema's URN.
    pub fn parse(path: &str) -> Option<Self> {
        let lower = path.to_ascii_lowercase();
        let name = lower.strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:").unwrap_or(&lower);
        Some(match name {
            "id" => Self::Id,
            "username" => Self::UserName,
            "emails" | "emails.value" => Self::EmailsValue,
            "externalid" => Self::ExternalId,
            "name.givenname" => Self::GivenName,
            "name.familyname" => Self::FamilyName,
            "displayname" => Self::DisplayName,
            "active" => Self::Active,
            "meta.created" => Self::Created,
            "meta.lastmodified" => Self::LastModified,
            _ => return None,
        })
    }

    /// A Group attribute: case-insensitive, with or without the core Group
    /// schema's URN.
    pub fn parse_group(path: &str) -> Option<Self> {
        let lower = path.to_ascii_lowercase();
        let name = lower.strip_prefix("urn:ietf:params:scim:schemas:core:2.0:group:").unwrap_or(&lower);
        Some(match name {
            "id" => Self::Id,
            "displayname" => Self::DisplayName,
            "externalid" => Self::ExternalId,
            "members" | "members.value" => Self::MembersValue,
            "meta.created" => Self::Created,
            "meta.lastmodified" => Self::LastModified,
            _ => return None,
        })
    }

    pub fn is_boolean(self) -> bool {
        self == Self::Active
    }

    pub fn is_time(self) -> bool {
        matches!(self, Self::Created | Self::LastModified)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Op {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }
}

/// A literal compared against.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Text(String),
    Bool(bool),
    Number(f64),
    Null,
}

/// A parsed filter. Comparisons are checked against their attribute's
/// type when parsed, so every tree translates.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Present(Attr),
    Compare(Attr, Op, Literal),
    /// `active eq true` and the like, settled at parse time.
    Boolean(Attr, bool),
    /// A comparison with a time, in milliseconds since the epoch.
    Time(Attr, Op, i64),
    /// A value filter on a multi-valued attribute (`emails[type eq "work"]`):
    /// Starship keeps one work email, so this is true when its inner filter
    /// holds for it.
    Emails(Box<EmailFilter>),
}

/// What a filter inside `emails[...]` may ask of the one email.
#[derive(Debug, Clone, PartialEq)]
pub enum EmailFilter {
    And(Box<EmailFilter>, Box<EmailFilter>),
    Or(Box<EmailFilter>, Box<EmailFilter>),
    Not(Box<EmailFilter>),
    /// `value op "…"` on the address.
    Value(Op, Literal),
    /// Whether `type`/`primary` matches: decided at parse time.
    Const(bool),
}

/// Why a filter does not parse, in words for the SCIM error's detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError(message.into()))
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(String),
    Text(String),
    Number(f64),
}

fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            '[' => {
                tokens.push(Token::OpenBracket);
                i += 1;
            }
            ']' => {
                tokens.push(Token::CloseBracket);
                i += 1;
            }
            '"' => {
                // A JSON string: find its end, then let serde_json unescape it.
                let start = i;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= chars.len() {
                    return err("a string is not closed");
                }
                i += 1;
                let literal: String = chars[start..i].iter().collect();
                let value: String =
                    serde_json::from_str(&literal).map_err(|_| FilterError(format!("bad string {literal}")))?;
                tokens.push(Token::Text(value));
            }
            c if c == '-' || c.is_ascii_digit() => {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || matches!(chars[i], '.' | 'e' | 'E' | '+' | '-'))
                {
                    i += 1;
                }
                let literal: String = chars[start..i].iter().collect();
                let n: f64 = literal.parse().map_err(|_| FilterError(format!("bad number {literal}")))?;
                tokens.push(Token::Number(n));
            }
            c if c.is_alphanumeric() || c == '$' || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || matches!(chars[i], '.' | ':' | '$' | '_' | '-'))
                {
                    i += 1;
                }
                tokens.push(Token::Word(chars[start..i].iter().collect()));
            }
            other => return err(format!("unexpected character '{other}'")),
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or_expr<T>(
        &mut self,
        atom: &mut dyn FnMut(&mut Self) -> Result<T, FilterError>,
        join: Joins<T>,
    ) -> Result<T, FilterError> {
        let mut left = self.and_expr(atom, join)?;
        while self.keyword("or") {
            self.at += 1;
            let right = self.and_expr(atom, join)?;
            left = (join.or)(left, right);
        }
        Ok(left)
    }

    fn and_expr<T>(
        &mut self,
        atom: &mut dyn FnMut(&mut Self) -> Result<T, FilterError>,
        join: Joins<T>,
    ) -> Result<T, FilterError> {
        let mut left = self.unary(atom, join)?;
        while self.keyword("and") {
            self.at += 1;
            let right = self.unary(atom, join)?;
            left = (join.and)(left, right);
        }
        Ok(left)
    }

    fn unary<T>(
        &mut self,
        atom: &mut dyn FnMut(&mut Self) -> Result<T, FilterError>,
        join: Joins<T>,
    ) -> Result<T, FilterError> {
        if self.keyword("not") {
            self.at += 1;
            if self.peek() != Some(&Token::Open) {
                return err("'not' takes a filter in parentheses");
            }
            let inner = self.unary(atom, join)?;
            return Ok((join.not)(inner));
        }
        if self.peek() == Some(&Token::Open) {
            self.at += 1;
            let inner = self.or_expr(atom, join)?;
            if self.next() != Some(Token::Close) {
                return err("a parenthesis is not closed");
            }
            return Ok(inner);
        }
        atom(self)
    }

    fn literal(&mut self) -> Result<Literal, FilterError> {
        match self.next() {
            Some(Token::Text(t)) => Ok(Literal::Text(t)),
            Some(Token::Number(n)) => Ok(Literal::Number(n)),
            Some(Token::Word(w)) if w == "true" => Ok(Literal::Bool(true)),
            Some(Token::Word(w)) if w == "false" => Ok(Literal::Bool(false)),
            Some(Token::Word(w)) if w == "null" => Ok(Literal::Null),
            Some(other) => err(format!("expected a value, found {other:?}")),
            None => err("expected a value at the end"),
        }
    }

    fn user_atom(&mut self) -> Result<Filter, FilterError> {
        let Some(Token::Word(path)) = self.next() else {
            return err("expected an attribute name");
        };
        self.comparison(path, Attr::parse)
    }

    /// A Group filter's comparison; `members[value eq "…"]` is
    /// `members.value eq "…"`.
    fn group_atom(&mut self) -> Result<Filter, FilterError> {
        let Some(Token::Word(path)) = self.next() else {
            return err("expected an attribute name");
        };
        if self.peek() != Some(&Token::OpenBracket) {
            return self.comparison(path, Attr::parse_group);
        }
        if !path.eq_ignore_ascii_case("members") {
            return err(format!("'{path}' has no value filter"));
        }
        self.at += 1;
        let inner = self.or_expr(
            &mut |p: &mut Parser| match p.next() {
                Some(Token::Word(sub)) if sub.eq_ignore_ascii_case("value") => {
                    p.comparison("members.value".into(), Attr::parse_group)
                }
                _ => err("members filters only on value"),
            },
            FILTER_JOINS,
        )?;
        if self.next() != Some(Token::CloseBracket) {
            return err("a '[' is not closed");
        }
        Ok(inner)
    }

    fn comparison(&mut self, path: String, resolve: fn(&str) -> Option<Attr>) -> Result<Filter, FilterError> {
        if self.peek() == Some(&Token::OpenBracket) {
            if !path.eq_ignore_ascii_case("emails") {
                return err(format!("'{path}' has no value filter"));
            }
            self.at += 1;
            let inner = self.or_expr(&mut |p: &mut Parser| p.email_atom(), EMAIL_JOINS)?;
            if self.next() != Some(Token::CloseBracket) {
                return err("a '[' is not closed");
            }
            return Ok(Filter::Emails(Box::new(inner)));
        }
        let attr = resolve(&path).ok_or_else(|| FilterError(format!("unknown attribute '{path}'")))?;
        let Some(Token::Word(op)) = self.next() else {
            return err(format!("expected an operator after '{path}'"));
        };
        if op.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(attr));
        }
        let op = Op::parse(&op).ok_or_else(|| FilterError(format!("unknown operator '{op}'")))?;
        let value = self.literal()?;
        compare(attr, op, value)
    }

    fn email_atom(&mut self) -> Result<EmailFilter, FilterError> {
        let Some(Token::Word(path)) = self.next() else {
            return err("expected an attribute of emails");
        };
        let Some(Token::Word(op)) = self.next() else {
            return err(format!("expected an operator after '{path}'"));
        };
        let present = op.eq_ignore_ascii_case("pr");
        let op = if present {
            None
        } else {
            Some(Op::parse(&op).ok_or_else(|| FilterError(format!("unknown operator '{op}'")))?)
        };
        let value = if present { Literal::Null } else { self.literal()? };
        match (path.to_ascii_lowercase().as_str(), op, value) {
            ("value", None, _) => Ok(EmailFilter::Const(true)),
            ("value", Some(op), Literal::Text(t)) => Ok(EmailFilter::Value(op, Literal::Text(t))),
            ("type", None, _) | ("primary", None, _) => Ok(EmailFilter::Const(true)),
            ("type", Some(Op::Eq), Literal::Text(t)) => Ok(EmailFilter::Const(t.eq_ignore_ascii_case("work"))),
            ("type", Some(Op::Ne), Literal::Text(t)) => Ok(EmailFilter::Const(!t.eq_ignore_ascii_case("work"))),
            ("primary", Some(Op::Eq), Literal::Bool(b)) => Ok(EmailFilter::Const(b)),
            ("primary", Some(Op::Ne), Literal::Bool(b)) => Ok(EmailFilter::Const(!b)),
            (other, _, _) => err(format!("cannot filter emails on '{other}' that way")),
        }
    }
}

struct Joins<T> {
    and: fn(T, T) -> T,
    or: fn(T, T) -> T,
    not: fn(T) -> T,
}

impl<T> Clone for Joins<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Joins<T> {}

const FILTER_JOINS: Joins<Filter> = Joins {
    and: |a, b| Filter::And(Box::new(a), Box::new(b)),
    or: |a, b| Filter::Or(Box::new(a), Box::new(b)),
    not: |a| Filter::Not(Box::new(a)),
};

const EMAIL_JOINS: Joins<EmailFilter> = Joins {
    and: |a, b| EmailFilter::And(Box::new(a), Box::new(b)),
    or: |a, b| EmailFilter::Or(Box::new(a), Box::new(b)),
    not: |a| EmailFilter::Not(Box::new(a)),
};

/// Checks a comparison against its attribute's type.
fn compare(attr: Attr, op: Op, value: Literal) -> Result<Filter, FilterError> {
    if attr.is_boolean() {
        return match (op, value) {
            (Op::Eq, Literal::Bool(b)) => Ok(Filter::Boolean(attr, b)),
            (Op::Ne, Literal::Bool(b)) => Ok(Filter::Boolean(attr, !b)),
            _ => err("'active' compares with eq or ne against true or false"),
        };
    }
    if attr.is_time() {
        let Literal::Text(text) = &value else {
            return err("a time compares against an RFC 3339 string");
        };
        let millis = crate::time_fmt::millis_from_rfc3339(text)
            .ok_or_else(|| FilterError(format!("'{text}' is not an RFC 3339 time")))?;
        if matches!(op, Op::Co | Op::Sw | Op::Ew) {
            return err("a time compares with eq, ne, gt, ge, lt or le");
        }
        return Ok(Filter::Time(attr, op, millis));
    }
    match value {
        Literal::Text(_) => Ok(Filter::Compare(attr, op, value)),
        Literal::Null if op == Op::Eq => Ok(Filter::Not(Box::new(Filter::Present(attr)))),
        Literal::Null if op == Op::Ne => Ok(Filter::Present(attr)),
        other => err(format!("this attribute compares against a string, not {other:?}")),
    }
}

/// Parses a `filter` query parameter.
pub fn parse(text: &str) -> Result<Filter, FilterError> {
    let mut parser = Parser { tokens: tokenize(text)?, at: 0 };
    if parser.tokens.is_empty() {
        return err("the filter is empty");
    }
    let filter = parser.or_expr(&mut |p: &mut Parser| p.user_atom(), FILTER_JOINS)?;
    if parser.at < parser.tokens.len() {
        return err(format!("unexpected {:?} after the filter", parser.tokens[parser.at]));
    }
    Ok(filter)
}

/// Parses a Group list's `filter` (`displayName`, `externalId`, `id`,
/// `members.value`, `meta.*`).
pub fn parse_group(text: &str) -> Result<Filter, FilterError> {
    let mut parser = Parser { tokens: tokenize(text)?, at: 0 };
    if parser.tokens.is_empty() {
        return err("the filter is empty");
    }
    let filter = parser.or_expr(&mut |p: &mut Parser| p.group_atom(), FILTER_JOINS)?;
    if parser.at < parser.tokens.len() {
        return err(format!("unexpected {:?} after the filter", parser.tokens[parser.at]));
    }
    Ok(filter)
}

/// A Group PATCH path: an attribute, or `members[value eq "…"]`, which
/// names the members to remove by id.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupPath {
    /// Lower-cased, schema URN removed (`displayname`, `members`).
    Attribute(String),
    /// The members a `members[...]` filter selects, as a filter over
    /// `members.value`.
    Members(Filter),
}

/// Parses a Group PATCH `path`.
pub fn parse_group_path(text: &str) -> Result<GroupPath, FilterError> {
    let text = text.trim();
    match text.find('[') {
        None => {
            let lower = text.to_ascii_lowercase();
            let attribute = lower.strip_prefix("urn:ietf:params:scim:schemas:core:2.0:group:").unwrap_or(&lower);
            if attribute.is_empty() {
                return err("the path names no attribute");
            }
            Ok(GroupPath::Attribute(attribute.to_string()))
        }
        Some(_) => {
            let close = text.rfind(']').ok_or_else(|| FilterError("a '[' is not closed".into()))?;
            if !text[close + 1..].trim().is_empty() {
                return err("expected nothing after ']'");
            }
            Ok(GroupPath::Members(parse_group(&text[..=close])?))
        }
    }
}

impl Filter {
    /// Whether a member id satisfies a `members.value` filter.
    pub fn matches_member(&self, id: &str) -> bool {
        match self {
            Self::And(a, b) => a.matches_member(id) && b.matches_member(id),
            Self::Or(a, b) => a.matches_member(id) || b.matches_member(id),
            Self::Not(a) => !a.matches_member(id),
            Self::Present(Attr::MembersValue) => true,
            Self::Compare(Attr::MembersValue, op, Literal::Text(t)) => match op {
                Op::Eq => id == t,
                Op::Ne => id != t,
                Op::Co => id.contains(t.as_str()),
                Op::Sw => id.starts_with(t.as_str()),
                Op::Ew => id.ends_with(t.as_str()),
                Op::Gt => id > t.as_str(),
                Op::Ge => id >= t.as_str(),
                Op::Lt => id < t.as_str(),
                Op::Le => id <= t.as_str(),
            },
            _ => false,
        }
    }
}

/// A PATCH operation's target: an attribute, optionally an email chosen by
/// a value filter, optionally a sub-attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute as written, lower-cased, schema URN removed
    /// (`name.givenname`, `emails`, `active`).
    pub attribute: String,
    /// A value filter that selects no email makes the operation a no-target.
    pub email_filter: Option<EmailFilter>,
    /// After the filter: `value`, `type`, `primary`.
    pub sub_attribute: Option<String>,
}

/// Parses a PATCH `path` (RFC 7644 §3.5.2).
pub fn parse_patch_path(text: &str) -> Result<PatchPath, FilterError> {
    let text = text.trim();
    let (head, rest) = match text.find('[') {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let lower = head.to_ascii_lowercase();
    let attribute = lower.strip_prefix("urn:ietf:params:scim:schemas:core:2.0:user:").unwrap_or(&lower).to_string();
    if attribute.is_empty() {
        return err("the path names no attribute");
    }
    let Some(rest) = rest else {
        return Ok(PatchPath { attribute, email_filter: None, sub_attribute: None });
    };
    if attribute != "emails" {
        return err(format!("'{head}' has no value filter"));
    }
    let close = rest.rfind(']').ok_or_else(|| FilterError("a '[' is not closed".into()))?;
    let mut parser = Parser { tokens: tokenize(&rest[..close])?, at: 0 };
    let inner = parser.or_expr(&mut |p: &mut Parser| p.email_atom(), EMAIL_JOINS)?;
    if parser.at < parser.tokens.len() {
        return err("unexpected text in the value filter");
    }
    let after = &rest[close + 1..];
    let sub_attribute = match after.strip_prefix('.') {
        Some(sub) if !sub.is_empty() => Some(sub.to_ascii_lowercase()),
        None if after.is_empty() => None,
        _ => return err("expected '.' and a sub-attribute after ']'"),
    };
    Ok(PatchPath { attribute, email_filter: Some(inner), sub_attribute })
}

impl EmailFilter {
    /// Whether the filter selects the email `address`.
    pub fn matches(&self, address: &str) -> bool {
        match self {
            Self::And(a, b) => a.matches(address) && b.matches(address),
            Self::Or(a, b) => a.matches(address) || b.matches(address),
            Self::Not(a) => !a.matches(address),
            Self::Const(b) => *b,
            Self::Value(op, Literal::Text(t)) => {
                let (a, t) = (address.to_lowercase(), t.to_lowercase());
                match op {
                    Op::Eq => a == t,
                    Op::Ne => a != t,
                    Op::Co => a.contains(&t),
                    Op::Sw => a.starts_with(&t),
                    Op::Ew => a.ends_with(&t),
                    Op::Gt => a > t,
                    Op::Ge => a >= t,
                    Op::Lt => a < t,
                    Op::Le => a <= t,
                }
            }
            Self::Value(_, _) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Literal {
        Literal::Text(s.into())
    }

    #[test]
    fn a_simple_comparison_parses_case_insensitively() {
        assert_eq!(
            parse(r#"userName eq "bjensen""#).unwrap(),
            Filter::Compare(Attr::UserName, Op::Eq, text("bjensen"))
        );
        assert_eq!(parse(r#"USERNAME EQ "a""#).unwrap(), Filter::Compare(Attr::UserName, Op::Eq, text("a")));
        assert_eq!(
            parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Ma""#).unwrap(),
            Filter::Compare(Attr::FamilyName, Op::Co, text("O'Ma"))
        );
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let f = parse(r#"externalId pr or userName sw "a" and active eq false"#).unwrap();
        assert_eq!(
            f,
            Filter::Or(
                Box::new(Filter::Present(Attr::ExternalId)),
                Box::new(Filter::And(
                    Box::new(Filter::Compare(Attr::UserName, Op::Sw, text("a"))),
                    Box::new(Filter::Boolean(Attr::Active, false))
                ))
            )
        );
        let g = parse(r#"(externalId pr or userName sw "a") and not (active ne true)"#).unwrap();
        assert!(matches!(g, Filter::And(_, ref right) if matches!(**right, Filter::Not(_))));
    }

    #[test]
    fn times_and_value_filters_parse() {
        assert!(matches!(
            parse(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#).unwrap(),
            Filter::Time(Attr::LastModified, Op::Gt, _)
        ));
        assert!(matches!(parse(r#"emails[type eq "work" and value co "@example.com"]"#).unwrap(), Filter::Emails(_)));
        assert_eq!(
            parse(r#"emails.value ew ".org""#).unwrap(),
            Filter::Compare(Attr::EmailsValue, Op::Ew, text(".org"))
        );
    }

    #[test]
    fn what_does_not_parse_says_why() {
        for bad in [
            "",
            "userName",
            r#"userName eq"#,
            r#"userName zz "a""#,
            r#"nickName eq "a""#,
            r#"userName eq "a" and"#,
            r#"(userName eq "a""#,
            r#"userName eq "a"#,
            r#"active eq "yes""#,
            r#"meta.lastModified gt "yesterday""#,
            r#"userName eq "a" userName eq "b""#,
            r#"not userName eq "a""#,
            r#"userName eq 12"#,
            "userName eq \"a\" ; DROP TABLE users",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn group_filters_name_members_by_value() {
        assert_eq!(
            parse_group(r#"displayName eq "Backlot Operators""#).unwrap(),
            Filter::Compare(Attr::DisplayName, Op::Eq, text("Backlot Operators"))
        );
        assert_eq!(
            parse_group(r#"members[value eq "u1"]"#).unwrap(),
            Filter::Compare(Attr::MembersValue, Op::Eq, text("u1"))
        );
        assert!(parse_group(r#"userName eq "a""#).is_err());
        assert!(parse(r#"members.value eq "a""#).is_err(), "users have no members");
        let GroupPath::Members(f) = parse_group_path(r#"members[value eq "u1"]"#).unwrap() else {
            panic!("a members path");
        };
        assert!(f.matches_member("u1") && !f.matches_member("u2"));
        assert_eq!(parse_group_path("displayName").unwrap(), GroupPath::Attribute("displayname".into()));
    }

    #[test]
    fn patch_paths_with_value_filters() {
        let p = parse_patch_path(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attribute, "emails");
        assert_eq!(p.sub_attribute.as_deref(), Some("value"));
        assert!(p.email_filter.as_ref().unwrap().matches("a@b.c"));
        let home = parse_patch_path(r#"emails[type eq "home"]"#).unwrap();
        assert!(!home.email_filter.unwrap().matches("a@b.c"));
        assert_eq!(parse_patch_path("name.givenName").unwrap().attribute, "name.givenname");
        assert!(parse_patch_path(r#"emails[type eq "work""#).is_err());
        assert!(parse_patch_path(r#"name[givenName eq "x"]"#).is_err());
    }
}
