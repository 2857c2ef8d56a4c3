//! The web UI in real headless Chromium (driven through chromedriver's WebDriver API): open the
//! dashboard, start the swarm from the page, see users and requests rise, change users, stop,
//! and find the run folder written; then quit from the page. And a run's report.html, opened with
//! the network off, draws its charts and shows a verdict line readable by WCAG AA.

use crate::support::{bin, read_json, repo, tmp};
use serde_json::{json, Value};
use std::io::BufRead;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed on drop; with `true`, its whole process group too (chromedriver leads
/// its own group, which holds the browsers it started).
struct Killed(Child, bool);
impl Drop for Killed {
    fn drop(&mut self) {
        if self.1 {
            // Not yet reaped, so the group id cannot have been reused. `--` matters: procps
            // kill reads a bare `-PID` after a signal as something else and signals far more.
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &format!("-{}", self.0.id())])
                .status();
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Browser {
    http: reqwest::Client,
    base: String,
    _driver: Killed,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Browser {
    async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A browser with `extra` Chromium arguments.
    async fn start_with(extra: &[&str]) -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (apt-get install chromium chromium-driver; .ci/run does it)");
        let driver = Killed(driver, true);
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while http.get(format!("{url}/status")).send().await.is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tmp();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1400,1000",
        ]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args }
        }}});
        let r: Value = http
            .post(format!("{url}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {r}"))
            .to_string();
        Self {
            http,
            base: format!("{url}/session/{id}"),
            _driver: driver,
            _profile: profile,
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if !body.is_null() {
            req = req.json(&body);
        }
        let r: Value = req.send().await.unwrap().json().await.unwrap();
        r["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", json!({ "url": url }))
            .await;
    }

    async fn js(&self, script: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
        .await
    }

    async fn click(&self, css: &str) {
        let e = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        let id = e[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {e}"))
            .to_string();
        let r = self
            .cmd(
                reqwest::Method::POST,
                &format!("/element/{id}/click"),
                json!({}),
            )
            .await;
        assert!(r.is_null(), "click {css}: {r}");
    }

    async fn type_into(&self, css: &str, text: &str) {
        let e = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                json!({"using": "css selector", "value": css}),
            )
            .await;
        let id = e[ELEMENT].as_str().unwrap().to_string();
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            json!({}),
        )
        .await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Waits until `script` returns true.
    async fn wait_for(&self, what: &str, script: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            if self.js(script).await == json!(true) {
                return;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Closes the browser (a WebDriver session delete).
    async fn quit(&self) {
        let _ = self.http.delete(&self.base).send().await;
    }

    async fn screenshot(&self, path: &std::path::Path) {
        use base64::Engine;
        let b64 = self
            .cmd(reqwest::Method::GET, "/screenshot", Value::Null)
            .await;
        if let Some(s) = b64.as_str() {
            let _ = std::fs::write(
                path,
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .unwrap_or_default(),
            );
        }
    }
}

fn number(css: &str) -> String {
    format!("return parseFloat((document.querySelector('{css}').textContent || '').replace(/[^0-9.]/g, '')) || 0;")
}

#[tokio::test]
async fn the_web_ui_starts_steers_and_stops_the_swarm() {
    let dir = tmp();
    let out = dir.path().join("web");
    let (child, url) = start_web_run(&out);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let browser = Browser::start().await;
    browser.goto(&url).await;
    start_three_users_from_the_page(&browser).await;
    steer_to_six_users_from_the_page(&browser).await;
    browser
        .screenshot(&repo().join("target/web-ui-running.png"))
        .await;
    stop_from_the_page_and_check_the_run_folder(&browser, &out).await;
    let status = quit_from_the_page(&browser, child).await;
    browser.quit().await;
    assert_eq!(
        status.code(),
        Some(0),
        "quitting the web UI is not a failure: {status:?}"
    );
    assert!(
        out.join("report.html").is_file(),
        "Goose saved the run's HTML report"
    );
}

/// Starts `voiceswarm run --web` (3 users, 5 ms backend) writing to `out`, and returns it with
/// the web UI URL it prints (within 30 s).
fn start_web_run(out: &std::path::Path) -> (Killed, String) {
    let mut child = Command::new(bin())
        .args([
            "run",
            "--web",
            "--dashboard-port",
            "0",
            "--out",
            out.to_str().unwrap(),
            "-u",
            "3",
            "-r",
            "10",
            "--fixed-latency-ms",
            "5",
        ])
        .current_dir(repo())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child, false);
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let url = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the web UI URL is printed");
        if let Some(rest) = line.strip_prefix("Web UI: open ") {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    (child, url)
}

/// Clicks Start once it is enabled, then sees 3 active users and requests per second above 0.
async fn start_three_users_from_the_page(browser: &Browser) {
    browser
        .wait_for(
            "the Start button",
            "const b = document.querySelector('#ctrl-start'); return !!b && !b.disabled;",
            Duration::from_secs(20),
        )
        .await;
    browser.click("#ctrl-start").await;
    browser
        .wait_for(
            "3 active users",
            &format!("{} ; ", number("#ctrl-active")).replace("return ", "return 3 <= "),
            Duration::from_secs(30),
        )
        .await;
    browser
        .wait_for(
            "requests per second above 0",
            &number("#kpi-rps").replace("return ", "return 0 < "),
            Duration::from_secs(30),
        )
        .await;
}

/// Sets the target to 6 users, applies it, and sees 6 active users.
async fn steer_to_six_users_from_the_page(browser: &Browser) {
    browser.type_into("#ctrl-target", "6").await;
    browser.click("#ctrl-apply").await;
    browser
        .wait_for(
            "6 active users",
            &number("#ctrl-active").replace("return ", "return 6 <= "),
            Duration::from_secs(30),
        )
        .await;
}

/// Clicks Stop and finds a completed run folder with requests in `out` (within 60 s).
async fn stop_from_the_page_and_check_the_run_folder(browser: &Browser, out: &std::path::Path) {
    browser.click("#ctrl-stop").await;
    let summary = out.join("summary.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !summary.is_file() {
        assert!(
            Instant::now() < deadline,
            "no run folder written after Stop"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let s = read_json(&summary);
    assert!(s["totals"]["requests"].as_u64().unwrap() > 0);
    assert_eq!(read_json(&out.join("run.json"))["completed"], true);
}

/// Clicks Quit once it shows and returns voiceswarm's exit status (it must exit within 30 s).
async fn quit_from_the_page(browser: &Browser, mut child: Killed) -> std::process::ExitStatus {
    browser
        .wait_for("the Quit button", "const b = document.querySelector('#ctrl-quit'); return !!b && !b.hidden && !b.disabled;", Duration::from_secs(30))
        .await;
    browser.click("#ctrl-quit").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = child.0.try_wait().unwrap() {
            return st;
        }
        assert!(
            Instant::now() < deadline,
            "voiceswarm did not exit after Quit"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The WCAG relative luminance of a CSS `rgb(…)`/`rgba(…)` colour.
fn luminance(css: &str) -> f64 {
    let n: Vec<f64> = css
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .split([',', ')'])
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let lin = |c: f64| {
        let c = c / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(n[0]) + 0.7152 * lin(n[1]) + 0.0722 * lin(n[2])
}

#[tokio::test]
async fn the_report_draws_its_charts_offline_and_its_verdict_reads() {
    let dir = tmp();
    let out = dir.path().join("run");
    let o = Command::new(bin())
        .args([
            "run",
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "4s",
            "--fixed-latency-ms",
            "5",
        ])
        .args(["--label", "team=web", "--out", out.to_str().unwrap()])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(o.status.code().is_some_and(|c| c <= 1), "{o:?}");
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!page.contains("cdn.jsdelivr"), "the report fetches nothing");
    // Every name resolves to nothing: a machine without a network.
    let b = Browser::start_with(&[
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
    ])
    .await;
    b.goto(&format!("file://{}", out.join("report.html").display()))
        .await;
    assert!(
        b.js("return document.title;")
            .await
            .as_str()
            .unwrap()
            .starts_with("voiceswarm "),
        "the title names voiceswarm and the run"
    );
    // A chart has drawn: its canvas holds painted pixels beyond a blank box.
    let painted = "const c = document.querySelector('.graph canvas'); if (!c) return 0; \
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0; \
        for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n;";
    b.wait_for(
        "a drawn chart",
        &format!("return (function() {{ {painted} }})() > 1000;"),
        Duration::from_secs(20),
    )
    .await;
    assert!(b.js("return typeof echarts;").await == json!("object"));
    // The verdict line's colour against the first ground behind it: WCAG AA (4.5:1).
    let colours = b
        .js("const p = document.querySelector('#voiceswarm-verdict p'); let e = p; \
             let bg = getComputedStyle(e).backgroundColor; \
             while (e && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) { e = e.parentElement; bg = e ? getComputedStyle(e).backgroundColor : 'rgb(255, 255, 255)'; } \
             return [getComputedStyle(p).color, bg, getComputedStyle(p).fontSize];")
        .await;
    let (fg, bg) = (colours[0].as_str().unwrap(), colours[1].as_str().unwrap());
    let (l1, l2) = (luminance(fg), luminance(bg));
    let ratio = (l1.max(l2) + 0.05) / (l1.min(l2) + 0.05);
    assert!(
        ratio >= 4.5,
        "verdict {fg} on {bg}: {ratio:.2}:1 ({colours})"
    );
    b.quit().await;
}
