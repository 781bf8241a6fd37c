import Foundation
import Hummingbird
import TachoFormat
import TachoJSON
import TachoOutput

/// The request context of every route: hummingbird's core, and what the request may touch.
public struct TachoRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    var access: Access = .open

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// With auth configured, every route but the login needs a token: `Authorization: Bearer T`
/// (or `Token T`, InfluxDB's, or Basic with T as the password, Telegraf's), or `p=T` on
/// `/write` (InfluxDB 1.x). Without one, or with one that grants nothing: 401. The token is
/// never logged. The console's files (`ConsoleAssets.isPublic`) hold no data and need none.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = TachoRequestContext
    let authenticator: Authenticator?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authenticator, request.uri.path != "/api/v1/login", !ConsoleAssets.isPublic(request.uri.path) else { return try await next(request, context) }
        guard let token = Self.token(request), let access = await authenticator.access(token: token) else {
            var e = APIError(.unauthorized, "a token is needed: Authorization: Bearer <token> (a device logs in at POST /api/v1/login; admin tokens are configured)")
            e.headers[.wwwAuthenticate] = "Bearer"
            return e.response
        }
        var c = context
        c.access = access
        return try await next(request, c)
    }

    static func token(_ request: Request) -> String? {
        if let h = request.headers[.authorization] {
            let parts = h.split(separator: " ", maxSplits: 1)
            guard parts.count == 2 else { return nil }
            switch parts[0].lowercased() {
            case "bearer", "token": return String(parts[1])
            case "basic":
                guard let d = Data(base64Encoded: String(parts[1])) else { return nil }
                let text = String(decoding: d, as: UTF8.self)
                guard let colon = text.firstIndex(of: ":") else { return nil }
                return String(text[text.index(after: colon)...])
            default: return nil
            }
        }
        if request.uri.path == "/write", let p = request.uri.queryParameters["p"] { return String(p) }
        return nil
    }
}

extension TachoHTTPServer {
    /// `POST /api/v1/login` with `{"device_id": "<IMEI>", "secret": "<device secret>"}`:
    /// `{"token": <JWT>, "expires_in": <seconds>, "device_id": …}`; 401 for an unknown device
    /// or a wrong secret (the same answer); 404 when auth is off.
    func login(_ request: Request, _ authenticator: Authenticator?) async throws -> Response {
        guard let authenticator else { throw APIError(.notFound, "auth is off on this server: no login (and no token needed)") }
        let body = try await collectBody(request)
        var device: String?, secret: String?
        do {
            let p = JSONParser(bytes: body)
            guard try p.next() == .beginObject else { throw APIError(.badRequest, "expected a JSON object {\"device_id\": …, \"secret\": …}") }
            while true {
                let t = try p.next()
                if t == .endObject { break }
                guard t == .key else { throw APIError(.badRequest, "expected a key") }
                let key = p.stringValue
                if key == "device_id" || key == "secret" {
                    guard try p.next() == .string else { throw APIError.badParameter(key, "expected a string") }
                    if key == "device_id" { device = p.stringValue } else { secret = p.stringValue }
                } else {
                    _ = try p.skipValue()
                }
            }
        } catch let e as JSONError {
            throw APIError(.badRequest, "the body cannot be read: line \(e.line):\(e.column): \(e.message)")
        }
        guard let device, !device.isEmpty else { throw APIError.badParameter("device_id", "missing; expected the device id (IMEI)") }
        guard let secret else { throw APIError.badParameter("secret", "missing; expected the device secret") }
        guard let (token, expiresIn) = try await authenticator.login(device: device, secret: secret) else {
            options.logger.notice("login refused", metadata: ["device": "\(device)"])
            throw APIError(.unauthorized, "unknown device or wrong secret")
        }
        let bytes = RowPrinter.encode(.ndjson, columns: ["token", "expires_in", "device_id"],
                                      rows: [[.text(token), .int(Int64(expiresIn)), .text(device)]])
        return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

extension Access {
    /// The vehicles a read may cover: a device reads only its own (asking for another is 403).
    func scope(_ vehicles: Set<ByteString>?) throws(APIError) -> Set<ByteString>? {
        guard case .device(let id) = self else { return vehicles }
        let own = ByteString(id)
        if let vehicles, vehicles.contains(where: { $0 != own }) {
            throw APIError(.forbidden, "a device token reads only the rows of its own vehicle \(id)", parameter: "vehicle")
        }
        return [own]
    }

    /// Store-wide answers (`/vehicles`, `/stats`) are for admins.
    func requireFleet(_ what: String) throws(APIError) {
        if case .device = self { throw APIError(.forbidden, "\(what) covers the whole fleet: an admin token is needed") }
    }

    /// A device writes only rows of its own vehicle: 403 naming the others, nothing written.
    func checkWrite(_ vehicles: Set<String>) throws(APIError) {
        guard case .device(let id) = self else { return }
        let others = vehicles.filter { $0 != id }.sorted()
        guard others.isEmpty else {
            throw APIError(.forbidden, "a device token writes only rows of its own vehicle \(id); this body has rows of \(others.prefix(5).joined(separator: ", ")); nothing was written")
        }
    }
}
