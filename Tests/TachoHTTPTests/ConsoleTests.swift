import TachoHTTP
import TachoTestSupport
import Testing

/// The console's files as the server serves them (the browser test, ConsoleBrowserTests, looks
/// at what the page does with them).
@Suite struct ConsoleTests {
    @Test func pageScriptAndStyleAreServedFromTheBinaryWithAStrictPolicy() async throws {
        let store = try FixtureStore()
        try await withServer(store.path) { port in
            let page = try await get(port, "/")
            #expect(page.status == 200)
            #expect(page.headers.first(name: "Content-Type") == "text/html; charset=utf-8")
            let csp = page.headers.first(name: "Content-Security-Policy") ?? ""
            // Only the page's own script: nothing inline, nothing from elsewhere.
            #expect(csp.contains("script-src 'self'") && csp.contains("default-src 'none'") && !csp.contains("unsafe"), "\(csp)")
            #expect(page.headers.first(name: "X-Content-Type-Options") == "nosniff")
            #expect(page.body.contains(#"<script src="/console/app.js"></script>"#))
            #expect(page.body.contains(#"<link rel="stylesheet" href="/console/app.css">"#))
            // No file from another host (the box has no internet).
            #expect(!page.body.contains("http://") && !page.body.contains("https://"))

            let script = try await get(port, "/console/app.js")
            #expect(script.status == 200)
            #expect(script.headers.first(name: "Content-Type") == "text/javascript; charset=utf-8")
            // Values reach the page as text only.
            for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("] {
                #expect(!script.body.contains(sink), "app.js uses \(sink)")
            }
            // It reads the API only, and only the read endpoints.
            #expect(script.body.contains("/api/v1/measurements") && script.body.contains("/api/v1/latest/"))
            #expect(!script.body.contains("/api/v1/write") && !script.body.contains("method: 'POST'"))

            let style = try await get(port, "/console/app.css")
            #expect(style.status == 200)
            #expect(style.headers.first(name: "Content-Type") == "text/css; charset=utf-8")

            #expect(try await get(port, "/console/other.js").status == 404)
            #expect(try await get(port, "/index.html").status == 404)
        }
    }

    /// With auth on, the page (which holds no data) loads without a token; every data request
    /// still needs one.
    @Test func withAuthThePageLoadsAndTheDataNeedsAToken() async throws {
        let store = try FixtureStore()
        var auth = HTTPAuthOptions()
        auth.adminTokenDigests = [HTTPAuthOptions.digest("console-admin")]
        try await withServer(store.path, configure: { $0.auth = auth }) { port in
            for path in ["/", "/console/app.js", "/console/app.css"] {
                #expect(try await get(port, path).status == 200, "\(path)")
            }
            #expect(try await get(port, "/api/v1/vehicles").status == 401)
            let withToken = try await request(port, "/api/v1/vehicles", headers: [("Authorization", "Bearer console-admin")])
            #expect(withToken.status == 200)
        }
    }
}
