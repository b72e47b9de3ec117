//! The worst request of each input shape (see `support/worst_case.rs`), sent through the real
//! router: each gets its clear answer, and a 4xx names what was wrong. `benches/worst_case.rs`
//! times the same requests.

#[path = "support/router.rs"]
mod router;
#[path = "support/worst_case.rs"]
mod worst_case;

use axum::body::Bytes;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_worst_case_gets_its_answer() {
    let app = router::App::new().await;
    let seed = worst_case::seed_body().to_string();
    let (status, body) = app
        .send("POST", "/api/v1/prompts", Some(Bytes::from(seed)))
        .await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    for shape in worst_case::all() {
        let (status, body) = app
            .send(shape.method, &shape.path, shape.body.map(Bytes::from))
            .await;
        let text = String::from_utf8_lossy(&body[..body.len().min(400)]).into_owned();
        assert_eq!(status.as_u16(), shape.status, "{}: {text}", shape.name);
        if shape.name == "resolve_batch_rendered" {
            let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let results = answer["results"].as_array().unwrap();
            let errors = results.iter().filter(|r| r.get("error").is_some()).count();
            assert!((30..50).contains(&errors), "{errors} of 50 refused");
            assert!(body.len() < 10 * 1024 * 1024, "{} bytes", body.len());
        }
        if status.is_client_error() {
            let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let message = error["error"]["message"].as_str().unwrap_or_default();
            assert!(!message.is_empty(), "{}: {text}", shape.name);
            if status == 422 {
                assert!(
                    error["error"]["field"].is_string(),
                    "{}: {text}",
                    shape.name
                );
            }
        }
    }
}
