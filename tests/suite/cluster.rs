//! Three instances of the blog, each its own process on a loopback port,
//! serving one PostgreSQL database (a private cluster, so the test may
//! restart it): a token issued by one instance works on the others, a
//! write on one reaches change-feed clients of the others through
//! `LISTEN/NOTIFY`, a PostgreSQL restart loses and repeats nothing, and a
//! client of an instance killed with SIGKILL resumes on another from its
//! cursor. The same on one MySQL / MariaDB database, where the wake-ups
//! across instances are the poll's and the server is not restarted (it is
//! shared). Every event received is counted against every write committed.

use std::collections::BTreeMap;
use std::time::Duration;

use ferrobridge_tests::{Backend, PASSWORD, PrivatePostgres, TestDb, UserKind, create_user};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::time::Instant;

use super::faults::{Server, client};

/// The longest any single step may take before the test gives up.
const PATIENCE: Duration = Duration::from_secs(20);

/// One SSE client: a streaming response read chunk by chunk.
struct Follower {
    response: reqwest::Response,
    buffer: String,
    /// Every event received, by cursor, with when it arrived.
    seen: BTreeMap<i64, (Value, Instant)>,
    /// Events received more than once (must stay empty).
    duplicates: Vec<i64>,
    last: Option<i64>,
}

impl Follower {
    /// Opens `GET {base}/api/posts/events` with `token`, resuming after `last`.
    async fn open(base: &str, token: &str, last: Option<i64>) -> Follower {
        let mut request = streaming_client()
            .get(format!("{base}/api/posts/events"))
            .bearer_auth(token);
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last.to_string());
        }
        let response = request.send().await.expect("open the event stream");
        assert_eq!(response.status(), StatusCode::OK, "{base}: stream refused");
        Follower {
            response,
            buffer: String::new(),
            seen: BTreeMap::new(),
            duplicates: Vec::new(),
            last,
        }
    }

    /// Reads frames until the event with cursor past `after` whose post has
    /// `title` arrives; when it arrived. Panics after [`PATIENCE`].
    async fn wait_for(&mut self, title: &str) -> Instant {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some((_, at)) = self
                .seen
                .values()
                .find(|(event, _)| event["data"]["title"] == title)
            {
                return *at;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk())
                .await
                .unwrap_or_else(|_| panic!("no event for {title:?} within {PATIENCE:?}"))
                .expect("read the stream")
                .unwrap_or_else(|| panic!("the stream ended before {title:?}"));
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
            self.take_frames();
        }
    }

    /// Reads until the server closes the stream (or it breaks); true if it did
    /// within `within`.
    async fn wait_closed(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Err(_) => return false,
                Ok(Ok(Some(chunk))) => {
                    self.buffer.push_str(&String::from_utf8_lossy(&chunk));
                    self.take_frames();
                }
                Ok(Ok(None)) | Ok(Err(_)) => return true,
            }
        }
    }

    /// Parses the complete frames in the buffer (unnamed events only; the
    /// heartbeat comments and other frames are skipped).
    fn take_frames(&mut self) {
        let now = Instant::now();
        while let Some(end) = self.buffer.find("\n\n") {
            let frame: String = self.buffer.drain(..end + 2).collect();
            let mut id = None;
            let mut data = String::new();
            let mut named = false;
            for line in frame.lines() {
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "id" => id = value.parse::<i64>().ok(),
                    "data" => data.push_str(value),
                    "event" => named = true,
                    _ => {}
                }
            }
            let (Some(id), false) = (id, named) else {
                continue;
            };
            let event: Value = serde_json::from_str(&data).expect("an event is JSON");
            assert!(
                self.last.is_none_or(|last| id > last),
                "cursor {id} after {:?}: not in order",
                self.last
            );
            self.last = Some(id);
            if self.seen.insert(id, (event, now)).is_some() {
                self.duplicates.push(id);
            }
        }
    }
}

/// A client without a whole-request timeout: a stream stays open for the test.
fn streaming_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(PATIENCE)
        .build()
        .expect("HTTP client")
}

/// `POST {base}/api/posts` as the token's user, retried while the instance
/// answers 503 (its pool reconnecting after a PostgreSQL restart); the
/// new post's id and when the write was acknowledged.
async fn write(base: &str, token: &str, author: i64, title: &str) -> (i64, Instant) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let reply = client()
            .post(format!("{base}/api/posts"))
            .bearer_auth(token)
            .json(&json!({ "title": title, "body": "b", "author_id": author }))
            .send()
            .await;
        match reply {
            Ok(reply) if reply.status() == StatusCode::CREATED => {
                let at = Instant::now();
                let post: Value = reply.json().await.expect("post JSON");
                return (post["id"].as_i64().expect("post id"), at);
            }
            Ok(reply) if reply.status() != StatusCode::SERVICE_UNAVAILABLE => {
                let status = reply.status();
                panic!("{base}: POST /api/posts {status}: {:?}", reply.text().await);
            }
            _ => {}
        }
        assert!(Instant::now() < deadline, "{base}: writes never came back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A token from `POST /api/auth/token` on `base`.
async fn login(base: &str) -> String {
    let reply = client()
        .post(format!("{base}/api/auth/token"))
        .form(&[("username", "root"), ("password", PASSWORD)])
        .send()
        .await
        .expect("token request");
    assert_eq!(reply.status(), StatusCode::OK, "login on {base}");
    let body: Value = reply.json().await.expect("token JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

#[tokio::test]
async fn three_instances_share_one_feed() {
    let Some(cluster) = PrivatePostgres::start() else {
        return;
    };
    let url = cluster.create_database("cluster").await;
    // The median proves the wake-up came by NOTIFY (the safety poll alone
    // takes up to a second).
    share_one_feed(
        &url,
        Duration::from_millis(200),
        Some(&|| cluster.restart()),
    )
    .await;
    drop(cluster);
}

/// The same on MySQL / MariaDB (a fresh database on the shared server,
/// which is not restarted): with no notifications, events of one instance
/// reach the others' clients by the hubs' poll, within
/// [`changes::POLL_INTERVAL`](ferrobridge::changes::POLL_INTERVAL) or so.
#[tokio::test]
async fn three_instances_share_one_feed_on_mysql() {
    let Some(db) = TestDb::new(Backend::Mysql).await else {
        return;
    };
    let poll = ferrobridge::changes::POLL_INTERVAL + Duration::from_millis(500);
    share_one_feed(&db.url, poll, None).await;
    db.finish().await;
}

/// Three instances on `url`: A's token works on B and C, writes on each
/// reach the others' followers (half of them within `median`), `restart`
/// (when given) restarts the database under them, and C's follower resumes
/// on A after C is killed; every write reaches every follower once, in order.
async fn share_one_feed(url: &str, median: Duration, restart: Option<&dyn Fn()>) {
    let url = url.to_owned();
    let db = ferrobridge::db::connect(&url).await.expect("connect");
    blog::app()
        .migrate(&db, None, |_, _| {})
        .await
        .expect("migrate");
    create_user(&db, "root", UserKind::Superuser).await;
    db.close().await.ok();
    let a = Server::start(&url).await;
    let b = Server::start(&url).await;
    let mut c = Server::start(&url).await;

    // Logged in on A, the token works on B and C.
    let token = login(&a.base()).await;
    for server in [&b, &c] {
        let reply = client()
            .get(format!("{}/api/posts", server.base()))
            .bearer_auth(&token)
            .send()
            .await
            .expect("list");
        assert_eq!(
            reply.status(),
            StatusCode::OK,
            "A's token on {}",
            server.base()
        );
    }
    let author = client()
        .post(format!("{}/api/authors", b.base()))
        .bearer_auth(&token)
        .json(&json!({ "name": "Ada" }))
        .send()
        .await
        .expect("author");
    assert_eq!(author.status(), StatusCode::CREATED);
    let author = author.json::<Value>().await.expect("author JSON")["id"]
        .as_i64()
        .expect("author id");

    // Writes on each instance reach followers of the other two.
    let mut on_b = Follower::open(&b.base(), &token, None).await;
    let mut on_c = Follower::open(&c.base(), &token, None).await;
    let mut written = Vec::new();
    let mut latencies = Vec::new();
    for round in 0..6 {
        let (writer, followers): (&Server, [&mut Follower; 2]) = match round % 3 {
            0 => (&a, [&mut on_b, &mut on_c]),
            1 => (&b, [&mut on_c, &mut on_b]),
            _ => (&c, [&mut on_b, &mut on_c]),
        };
        let title = format!("round {round}");
        let (id, acknowledged) = write(&writer.base(), &token, author, &title).await;
        written.push((id, title.clone()));
        // The first follower is on another instance than the writer.
        let [other, second] = followers;
        latencies.push(other.wait_for(&title).await - acknowledged);
        second.wait_for(&title).await;
    }
    latencies.sort();
    // The median, as a starved CI machine may delay one outlier.
    assert!(
        latencies[latencies.len() / 2] < median,
        "cross-instance delivery took {latencies:?}"
    );

    // The database restarts under the followers: nothing lost or repeated,
    // no instance restarted.
    if let Some(restart) = restart {
        restart();
    }
    for (round, writer) in [&a, &b, &c].into_iter().enumerate() {
        let title = format!("after restart {round}");
        let (id, _) = write(&writer.base(), &token, author, &title).await;
        written.push((id, title.clone()));
        on_b.wait_for(&title).await;
        on_c.wait_for(&title).await;
    }

    // C is killed; its follower reconnects to A with its cursor and gets
    // what was written meanwhile, once.
    c.sigkill();
    assert!(
        on_c.wait_closed(PATIENCE).await,
        "the stream of a killed instance did not end"
    );
    let title = "while C was down".to_string();
    let (id, _) = write(&b.base(), &token, author, &title).await;
    written.push((id, title.clone()));
    let resumed_after = on_c.last;
    let mut resumed = Follower::open(&a.base(), &token, resumed_after).await;
    resumed.wait_for(&title).await;
    on_b.wait_for(&title).await;

    // Every write committed reached every follower exactly once, in order.
    let pks = |follower: &Follower| -> Vec<String> {
        follower
            .seen
            .values()
            .map(|(event, _)| event["pk"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let expected: Vec<String> = written.iter().map(|(id, _)| id.to_string()).collect();
    assert_eq!(pks(&on_b), expected, "B's follower");
    let mut c_then_a = pks(&on_c);
    c_then_a.extend(pks(&resumed));
    assert_eq!(c_then_a, expected, "C's follower, resumed on A");
    for follower in [&on_b, &on_c, &resumed] {
        assert!(follower.duplicates.is_empty(), "{:?}", follower.duplicates);
    }
    drop((a, b, c));
}
