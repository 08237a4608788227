//! Misuses of `#[derive(Model)]` fail to compile with an error at the
//! offending token that says what to write instead (`ui/fail/*.stderr`);
//! unusual but valid models compile (`ui/pass`).

#[test]
fn derive_misuses_are_compile_errors() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/fail/*.rs");
    cases.pass("ui/pass/*.rs");
}
