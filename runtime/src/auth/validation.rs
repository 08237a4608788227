//! Password validation: Django's four default validators, as one
//! [`PasswordPolicy`] applied wherever a password is set (the API's
//! `#[field(password)]` fields, the admin's password forms, `createsuperuser`
//! and `changepassword`). Configured with
//! [`App::password_policy`](crate::App::password_policy).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use crate::error::ErrorKind;

/// Why a password was refused: Django's error code (also the `type` of the
/// API's 422) and its message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswordProblem {
    /// Django's code: `password_too_short`, `password_too_similar`,
    /// `password_too_common`, `password_entirely_numeric`, or a custom one.
    pub code: ErrorKind,
    /// The sentence shown to people.
    pub message: String,
}

impl PasswordProblem {
    /// A problem with `code` and `message`.
    pub fn new(code: ErrorKind, message: impl Into<String>) -> Self {
        PasswordProblem {
            code,
            message: message.into(),
        }
    }
}

/// The account a password is for, as validators see it: its string fields
/// by name (`username`, `email`, ...), with their labels for messages.
#[derive(Clone, Debug, Default)]
pub struct PasswordContext {
    attributes: BTreeMap<String, String>,
}

impl PasswordContext {
    /// No account known (every attribute check passes).
    pub fn new() -> Self {
        PasswordContext::default()
    }

    /// Adds the attribute `name` (`first_name`) with `value`.
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// The value of attribute `name`, if known.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    /// The context of a built-in user account.
    pub fn of_user(user: &crate::auth::User) -> Self {
        PasswordContext::new()
            .with("username", &user.username)
            .with("first_name", &user.first_name)
            .with("last_name", &user.last_name)
            .with("email", &user.email)
    }

    /// Every string member of a JSON object.
    pub fn from_json(object: &serde_json::Value) -> Self {
        let mut context = PasswordContext::new();
        if let Some(object) = object.as_object() {
            for (key, value) in object {
                if let Some(text) = value.as_str() {
                    context = context.with(key.clone(), text);
                }
            }
        }
        context
    }
}

/// One rule a new password must pass (Django's `AUTH_PASSWORD_VALIDATORS`
/// entries). Implement it for rules of your own and add them with
/// [`PasswordPolicy::with`].
pub trait PasswordValidator: Send + Sync + 'static {
    /// `Err` with the problem when `password` breaks the rule for `account`.
    fn validate(&self, password: &str, account: &PasswordContext) -> Result<(), PasswordProblem>;
    /// What the rule asks for, shown under password fields.
    fn help_text(&self) -> String;
}

/// An ordered set of [`PasswordValidator`]s; every problem is reported.
///
/// The default is Django's default settings: [`UserAttributeSimilarity`],
/// [`MinimumLength`] (8), [`CommonPassword`] and [`NumericPassword`].
///
/// ```
/// use ferrobridge::auth::{MinimumLength, NumericPassword, PasswordPolicy};
/// let strict = PasswordPolicy::none().with(MinimumLength(12)).with(NumericPassword);
/// assert!(!strict.problems("short", &Default::default()).is_empty());
/// assert!(PasswordPolicy::none().problems("0", &Default::default()).is_empty());
/// ```
#[derive(Clone)]
pub struct PasswordPolicy {
    validators: Vec<Arc<dyn PasswordValidator>>,
}

impl std::fmt::Debug for PasswordPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PasswordPolicy({} validators)", self.validators.len())
    }
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        PasswordPolicy::django()
    }
}

impl PasswordPolicy {
    /// Django's default validators, with Django's default settings.
    pub fn django() -> Self {
        PasswordPolicy::none()
            .with(UserAttributeSimilarity::default())
            .with(MinimumLength::default())
            .with(CommonPassword)
            .with(NumericPassword)
    }

    /// No validators: every non-empty password is accepted (Django with
    /// `AUTH_PASSWORD_VALIDATORS = []`).
    pub fn none() -> Self {
        PasswordPolicy {
            validators: Vec::new(),
        }
    }

    /// Adds `validator` after those already there.
    pub fn with(mut self, validator: impl PasswordValidator) -> Self {
        self.validators.push(Arc::new(validator));
        self
    }

    /// Every problem of `password` for `account`, in validator order.
    pub fn problems(&self, password: &str, account: &PasswordContext) -> Vec<PasswordProblem> {
        self.validators
            .iter()
            .filter_map(|v| v.validate(password, account).err())
            .collect()
    }

    /// The validators' help texts, in order.
    pub fn help_texts(&self) -> Vec<String> {
        self.validators.iter().map(|v| v.help_text()).collect()
    }
}

/// Django's `MinimumLengthValidator`: at least this many characters.
#[derive(Clone, Copy, Debug)]
pub struct MinimumLength(pub usize);

impl Default for MinimumLength {
    fn default() -> Self {
        MinimumLength(8)
    }
}

fn characters(n: usize) -> &'static str {
    if n == 1 { "character" } else { "characters" }
}

impl PasswordValidator for MinimumLength {
    fn validate(&self, password: &str, _: &PasswordContext) -> Result<(), PasswordProblem> {
        if password.chars().count() < self.0 {
            return Err(PasswordProblem::new(
                ErrorKind::PasswordTooShort,
                format!(
                    "This password is too short. It must contain at least {} {}.",
                    self.0,
                    characters(self.0)
                ),
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        format!(
            "Your password must contain at least {} {}.",
            self.0,
            characters(self.0)
        )
    }
}

/// Django's `NumericPasswordValidator`: not only digits.
#[derive(Clone, Copy, Debug, Default)]
pub struct NumericPassword;

impl PasswordValidator for NumericPassword {
    fn validate(&self, password: &str, _: &PasswordContext) -> Result<(), PasswordProblem> {
        if !password.is_empty() && password.chars().all(char::is_numeric) {
            return Err(PasswordProblem::new(
                ErrorKind::PasswordEntirelyNumeric,
                "This password is entirely numeric.",
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be entirely numeric.".into()
    }
}

/// Django's list of 20,000 common passwords (lower case), BSD-licensed:
/// see `common-passwords.LICENSE` beside it.
const COMMON_PASSWORDS: &str = include_str!("common-passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| COMMON_PASSWORDS.lines().map(str::trim).collect());

/// Django's `CommonPasswordValidator`: not one of Django's 20,000 common
/// passwords (compared in lower case, surrounding spaces ignored).
#[derive(Clone, Copy, Debug, Default)]
pub struct CommonPassword;

impl PasswordValidator for CommonPassword {
    fn validate(&self, password: &str, _: &PasswordContext) -> Result<(), PasswordProblem> {
        if COMMON.contains(password.to_lowercase().trim()) {
            return Err(PasswordProblem::new(
                ErrorKind::PasswordTooCommon,
                "This password is too common.",
            ));
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be a commonly used password.".into()
    }
}

/// Django's `UserAttributeSimilarityValidator`: not too similar to the
/// account's attributes (each whole, and each of its words).
#[derive(Clone, Debug)]
pub struct UserAttributeSimilarity {
    /// The attributes compared, with the names messages use for them.
    pub attributes: Vec<(String, String)>,
    /// Similarity (difflib's `quick_ratio`) from which a password is refused.
    pub max_similarity: f64,
}

impl Default for UserAttributeSimilarity {
    fn default() -> Self {
        UserAttributeSimilarity {
            attributes: [
                ("username", "username"),
                ("first_name", "first name"),
                ("last_name", "last name"),
                ("email", "email address"),
            ]
            .into_iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
            max_similarity: 0.7,
        }
    }
}

/// Python's `difflib.SequenceMatcher(a=a, b=b).quick_ratio()`: twice the
/// characters the two share (as multisets) over their total length.
fn quick_ratio(a: &[char], b: &[char]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let mut available: HashMap<char, usize> = HashMap::new();
    for c in b {
        *available.entry(*c).or_default() += 1;
    }
    let mut matches = 0usize;
    for c in a {
        if let Some(n) = available.get_mut(c)
            && *n > 0
        {
            *n -= 1;
            matches += 1;
        }
    }
    2.0 * matches as f64 / (a.len() + b.len()) as f64
}

impl PasswordValidator for UserAttributeSimilarity {
    fn validate(&self, password: &str, account: &PasswordContext) -> Result<(), PasswordProblem> {
        let password: Vec<char> = password.to_lowercase().chars().collect();
        for (attribute, label) in &self.attributes {
            let Some(value) = account.get(attribute).filter(|v| !v.is_empty()) else {
                continue;
            };
            let value = value.to_lowercase();
            // Python's re.split(r"\W+", value) + [value].
            let parts = value
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .chain(std::iter::once(value.as_str()));
            for part in parts {
                let part: Vec<char> = part.chars().collect();
                // Django skips parts far shorter than the password: their
                // ratio could never reach the bound.
                let bound = self.max_similarity / 2.0 * password.len() as f64;
                if password.len() >= 10 * part.len() && (part.len() as f64) < bound {
                    continue;
                }
                if quick_ratio(&password, &part) >= self.max_similarity {
                    return Err(PasswordProblem::new(
                        ErrorKind::PasswordTooSimilar,
                        format!("The password is too similar to the {label}."),
                    ));
                }
            }
        }
        Ok(())
    }

    fn help_text(&self) -> String {
        "Your password can’t be too similar to your other personal information.".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(password: &str, account: &PasswordContext) -> Vec<String> {
        PasswordPolicy::django()
            .problems(password, account)
            .into_iter()
            .map(|p| p.code.to_string())
            .collect()
    }

    #[test]
    fn django_defaults_refuse_what_django_refuses() {
        let none = PasswordContext::new();
        assert_eq!(
            codes("0", &none),
            [
                "password_too_short",
                "password_too_common",
                "password_entirely_numeric"
            ]
        );
        assert_eq!(
            codes("12345678", &none),
            ["password_too_common", "password_entirely_numeric"]
        );
        assert_eq!(codes("password", &none), ["password_too_common"]);
        assert_eq!(codes("PassWord ", &none), ["password_too_common"]);
        assert!(codes("correct horse battery staple", &none).is_empty());
        let ann = PasswordContext::new()
            .with("username", "annabelle")
            .with("email", "ann.smith@example.com");
        assert_eq!(codes("annabelle-x", &ann), ["password_too_similar"]);
        // A part of the email address is compared too.
        assert_eq!(codes("Smith.example", &ann), ["password_too_similar"]);
        assert!(codes("tulip-orbit-canyon", &ann).is_empty());
        let message = &PasswordPolicy::django().problems("annabelle", &ann)[0].message;
        assert_eq!(message, "The password is too similar to the username.");
    }

    #[test]
    fn quick_ratio_is_difflibs() {
        let chars = |s: &str| s.chars().collect::<Vec<_>>();
        // difflib.SequenceMatcher(a="abcd", b="bcde").quick_ratio() == 0.75
        assert_eq!(quick_ratio(&chars("abcd"), &chars("bcde")), 0.75);
        assert_eq!(quick_ratio(&chars(""), &chars("")), 1.0);
    }

    #[test]
    fn the_common_list_is_djangos() {
        // 20,000 lines, a few the same once trimmed.
        assert!(COMMON.len() > 19_000);
        assert!(COMMON.contains("qwerty"));
    }
}
