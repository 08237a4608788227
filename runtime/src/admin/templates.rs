//! The admin's templates: minijinja, with HTML auto-escaping, embedded in
//! the binary. A directory given to
//! [`App::admin_templates`](crate::App::admin_templates) is looked in first,
//! so any template (`admin/base.html`, `admin/change_list.html`, ...) can be
//! overridden, and new ones added for custom pages.

use std::path::PathBuf;

use minijinja::Environment;

/// Every built-in template, by name.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "admin/base.html",
        include_str!("../../assets/admin/templates/admin/base.html"),
    ),
    (
        "admin/login.html",
        include_str!("../../assets/admin/templates/admin/login.html"),
    ),
    (
        "admin/index.html",
        include_str!("../../assets/admin/templates/admin/index.html"),
    ),
    (
        "admin/app_index.html",
        include_str!("../../assets/admin/templates/admin/app_index.html"),
    ),
    (
        "admin/error.html",
        include_str!("../../assets/admin/templates/admin/error.html"),
    ),
    (
        "admin/password_change.html",
        include_str!("../../assets/admin/templates/admin/password_change.html"),
    ),
    (
        "admin/set_password.html",
        include_str!("../../assets/admin/templates/admin/set_password.html"),
    ),
    (
        "admin/change_list.html",
        include_str!("../../assets/admin/templates/admin/change_list.html"),
    ),
    (
        "admin/delete_confirmation.html",
        include_str!("../../assets/admin/templates/admin/delete_confirmation.html"),
    ),
    (
        "admin/delete_macros.html",
        include_str!("../../assets/admin/templates/admin/delete_macros.html"),
    ),
    (
        "admin/delete_selected_confirmation.html",
        include_str!("../../assets/admin/templates/admin/delete_selected_confirmation.html"),
    ),
    (
        "admin/object_history.html",
        include_str!("../../assets/admin/templates/admin/object_history.html"),
    ),
    (
        "admin/change_form.html",
        include_str!("../../assets/admin/templates/admin/change_form.html"),
    ),
    (
        "admin/widgets.html",
        include_str!("../../assets/admin/templates/admin/widgets.html"),
    ),
    (
        "admin/macros.html",
        include_str!("../../assets/admin/templates/admin/macros.html"),
    ),
];

/// The admin's one stylesheet, served at `/admin/static/admin.css`.
pub const STYLESHEET: &str = include_str!("../../assets/admin/admin.css");
/// The admin's one script (autocomplete, select-all), served at `/admin/static/admin.js`.
pub const SCRIPT: &str = include_str!("../../assets/admin/admin.js");

/// The template environment: user templates from `dir` first, then the
/// built-in ones. Names ending in `.html` are auto-escaped.
pub fn environment(dir: Option<PathBuf>) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_loader(move |name| {
        if let Some(dir) = &dir
            && let Some(path) = safe_join(dir, name)
        {
            match std::fs::read_to_string(&path) {
                Ok(text) => return Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(minijinja::Error::new(
                        minijinja::ErrorKind::InvalidOperation,
                        format!("cannot read template {}: {e}", path.display()),
                    ));
                }
            }
        }
        Ok(TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| (*text).to_string()))
    });
    env
}

/// `dir/name`, unless `name` tries to leave `dir`.
fn safe_join(dir: &std::path::Path, name: &str) -> Option<PathBuf> {
    let relative = std::path::Path::new(name);
    relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
        .then(|| dir.join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let env = environment(None);
        for (name, _) in TEMPLATES {
            env.get_template(name)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }

    #[test]
    fn html_is_escaped() {
        let mut env = environment(None);
        env.add_template("t.html", "{{ v }}").unwrap();
        let out = env
            .get_template("t.html")
            .unwrap()
            .render(minijinja::context! { v => "<script>alert(1)</script>" })
            .unwrap();
        assert_eq!(out, "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;");
    }

    #[test]
    fn names_cannot_leave_the_directory() {
        assert!(safe_join(std::path::Path::new("/t"), "../etc/passwd").is_none());
        assert!(safe_join(std::path::Path::new("/t"), "/etc/passwd").is_none());
        assert!(safe_join(std::path::Path::new("/t"), "admin/base.html").is_some());
    }
}
