import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body has not all arrived `timeout` after the request's
/// headers did (`bodyTimeoutSeconds`). The idle timeout cannot catch a client that trickles a
/// body a byte at a time: every piece counts as activity, so one such client per connection
/// would hold the connection, a task and a growing buffer for as long as it likes. (Headers
/// need no handler of their own: the idle timeout runs until a request's head is whole, so a
/// client that trickles its headers is closed after `idleTimeoutSeconds`.)
///
/// In the pipeline after hummingbird's HTTP/1 codec (`additionalChannelHandlers`): it sees
/// request parts, not bytes. One instance per connection, used on its event loop only.
final class BodyDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            cancel()
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) {
                context.close(promise: nil)
            }
        case .body:
            break
        case .end:
            cancel()
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    private func cancel() {
        deadline?.cancel()
        deadline = nil
    }
}

@available(*, unavailable)
extension BodyDeadlineHandler: Sendable {}
