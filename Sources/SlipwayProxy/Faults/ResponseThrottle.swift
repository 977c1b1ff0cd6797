import NIOCore

/// A bandwidth fault's hold on one response body: the bytes the instance sent wait here and go to the client at the
/// fault's rate, a slice every ``tick``. Reading from the instance stops while more than ``highWater`` bytes wait.
///
/// Touched only on the connection's event loop.
final class ResponseThrottle {
    /// How often waiting bytes are released.
    static let tick = TimeAmount.milliseconds(20)
    /// Waiting bytes above which the instance is read no further.
    static let highWater = 64 * 1024

    let bytesPerSecond: Int
    private(set) var waiting = CircularBuffer<ByteBuffer>()
    private(set) var waitingBytes = 0
    /// The instance's response has ended: the exchange completes once the last bytes are out.
    var ended = false
    /// The next release, while bytes wait.
    var scheduled: Scheduled<Void>?
    private var credit = 0.0
    private var last: NIODeadline

    init(bytesPerSecond: Int, now: NIODeadline) {
        self.bytesPerSecond = bytesPerSecond
        self.last = now
    }

    var isFull: Bool { waitingBytes >= Self.highWater }
    var isEmpty: Bool { waitingBytes == 0 }

    func enqueue(_ buffer: ByteBuffer) {
        guard buffer.readableBytes > 0 else { return }
        waitingBytes += buffer.readableBytes
        waiting.append(buffer)
    }

    /// The bytes the rate allows at `now`, in order, taken from those waiting. Credit does not build up past a tenth
    /// of a second's worth (at least one byte), so a pause does not turn into a burst.
    func release(at now: NIODeadline) -> [ByteBuffer] {
        let elapsed = Double(max(0, (now - last).nanoseconds)) / 1_000_000_000
        last = now
        let burst = max(Double(bytesPerSecond) / 10, 1)
        credit = min(credit + Double(bytesPerSecond) * elapsed, burst)
        var allowed = Int(credit)
        var out: [ByteBuffer] = []
        while allowed > 0, var first = waiting.first {
            if first.readableBytes <= allowed {
                allowed -= first.readableBytes
                waitingBytes -= first.readableBytes
                out.append(waiting.removeFirst())
            } else {
                out.append(first.readSlice(length: allowed)!)
                waitingBytes -= allowed
                waiting[waiting.startIndex] = first
                allowed = 0
            }
        }
        credit -= Double(out.reduce(0) { $0 + $1.readableBytes })
        return out
    }
}
