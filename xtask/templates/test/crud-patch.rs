
    let change = json!({ "{{field}}": {{value}} });
    let (status, patched) = client.call(Method::PATCH, &detail, Some(change)).await;
    assert_eq!(status, StatusCode::OK, "patch: {patched}");
    assert_eq!(patched["{{field}}"], json!({{value}}));
