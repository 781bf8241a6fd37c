import Hummingbird

/// The web console (docs/HTTP.md "Console"): one page at `/`, its script and its style sheet,
/// all compiled into the binary (the box has no internet: no CDN, no external fonts). The page
/// holds no data; it reads everything from the JSON API with the token the operator types, so
/// these three paths are served without a token even when auth is on (`AuthMiddleware`).
enum ConsoleAssets {
    struct Asset: Sendable {
        let contentType: String
        let bytes: [UInt8]
    }

    static let page = Asset(contentType: "text/html; charset=utf-8", bytes: Array(ConsolePage.html.utf8))
    static let script = Asset(contentType: "text/javascript; charset=utf-8", bytes: Array(ConsoleScript.js.utf8))
    static let style = Asset(contentType: "text/css; charset=utf-8", bytes: Array(ConsoleStyle.css.utf8))

    /// Path → asset: the only paths the console serves.
    static let byPath: [String: Asset] = ["/": page, "/console/app.js": script, "/console/app.css": style]

    /// Paths served without a token: the console's own files, never data.
    static func isPublic(_ path: String) -> Bool { byPath[path] != nil }

    /// Only the page's own script and style, and requests to this server: data from the API
    /// cannot run as script even if a value slipped into markup.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    static func response(_ asset: Asset) -> Response {
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .cacheControl: "no-cache",
            .xContentTypeOptions: "nosniff",
        ]
        if asset.contentType.hasPrefix("text/html") { headers[.contentSecurityPolicy] = contentSecurityPolicy }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}

extension TachoHTTPServer {
    /// `GET /` (the page), `/console/app.js`, `/console/app.css`.
    func addConsoleRoutes(to router: Router<TachoRequestContext>) {
        for (path, asset) in ConsoleAssets.byPath {
            router.get(RouterPath(path)) { _, _ in ConsoleAssets.response(asset) }
        }
    }
}
