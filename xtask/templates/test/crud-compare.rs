    // What was sent comes back as it was.
    for field in [{{fields}}] {
        assert_eq!(created[field], body[field], "{field}");
    }
