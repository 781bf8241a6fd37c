import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TachoHTTP
import TachoIngest
import TachoStore
import TachoTestSupport

/// A store of the public fixtures (nested and flat detections and status), ingested in-process.
struct FixtureStore: Sendable {
    let dir = TempDir("tacho-http")
    var path: String { dir.path + "/store" }

    static let inputs = ["mobileye-nested", "mobileye-flat"].flatMap { sub in
        ((try? FileManager.default.contentsOfDirectory(atPath: fixturesDirectory + "/" + sub)) ?? []).sorted().map {
            fixturesDirectory + "/" + sub + "/" + $0
        }
    }

    init() throws {
        var o = StoreOptions()
        o.logger = quietLogger()
        let w = try StoreWriter(path: path, options: o)
        defer { w.close() }
        let ing = Ingestor(writer: w, logger: quietLogger())
        for p in Self.inputs { _ = try ing.ingest(path: p) }
    }
}

func quietLogger() -> Logger {
    var l = Logger(label: "test")
    l.logLevel = .critical
    return l
}

/// A server on 127.0.0.1, port 0, in this process, against `store`; stopped after `body`.
func withServer(_ store: String, configure: (inout HTTPServerOptions) -> Void = { _ in },
                _ body: @Sendable (Int) async throws -> Void) async throws {
    var options = HTTPServerOptions(storePath: store)
    options.port = 0
    options.logger = quietLogger()
    configure(&options)
    let server = TachoHTTPServer(options: options)
    let (ports, continuation) = AsyncStream<Int>.makeStream()
    let task = Task { try await server.run { continuation.yield($0) } }
    var it = ports.makeAsyncIterator()
    guard let port = await it.next() else { throw HarnessError("the server did not start") }
    do {
        try await body(port)
    } catch {
        task.cancel()
        _ = await task.result
        throw error
    }
    task.cancel()
    _ = await task.result
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

struct HTTPAnswer: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: String
    /// How many pieces the body arrived in.
    var pieces: Int
}

/// One request over a real connection; the body collected whole.
func request(_ port: Int, _ path: String, method: HTTPMethod = .GET, headers: [(String, String)] = [],
             body: [UInt8]? = nil, timeout: TimeAmount = .seconds(60)) async throws -> HTTPAnswer {
    var r = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
    r.method = method
    for (k, v) in headers { r.headers.add(name: k, value: v) }
    if let body { r.body = .bytes(ByteBuffer(bytes: body)) }
    let response = try await HTTPClient.shared.execute(r, timeout: timeout)
    var bytes: [UInt8] = []
    var pieces = 0
    for try await piece in response.body {
        bytes += piece.readableBytesView
        pieces += 1
    }
    return HTTPAnswer(status: Int(response.status.code), headers: response.headers, body: String(decoding: bytes, as: UTF8.self), pieces: pieces)
}

func get(_ port: Int, _ path: String, accept: String? = nil) async throws -> HTTPAnswer {
    try await request(port, path, headers: accept.map { [("Accept", $0)] } ?? [])
}

/// `tacho args…` (the built binary, no config file): its stdout; a non-zero exit throws.
func tacho(_ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: builtProduct("tacho"))
    p.arguments = args
    p.environment = childEnvironment(["TACHO_CONFIG": ""])
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw HarnessError("tacho \(args.joined(separator: " ")): exit \(p.terminationStatus)") }
    return String(decoding: data, as: UTF8.self)
}
