
    // The {{model}} the foreign key points at.
    let {{snake}}_body = json!({{body}});
    let (status, reply) = client.call(Method::POST, "{{uri}}", Some({{snake}}_body)).await;
    assert_eq!(status, StatusCode::CREATED, "create the {{model}}: {reply}");
    let {{snake}}_pk = reply["{{pk}}"].clone();
