import SlipwayCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FailedRequest {
    /// Longer paths are cut to this many bytes (at a character boundary), as are request ids.
    static let maximumPathBytes = 512
    static let maximumRequestIDBytes = 128

    /// The path of a request target: the part before `?` or `#`, cut to ``maximumPathBytes``.
    static func path(of target: String) -> String {
        let end = target.firstIndex { $0 == "?" || $0 == "#" } ?? target.endIndex
        return cut(target[..<end], to: maximumPathBytes)
    }

    /// `text` cut to at most `bytes` UTF-8 bytes, whole characters only.
    static func cut(_ text: Substring, to bytes: Int) -> String {
        guard text.utf8.count > bytes else { return String(text) }
        var result = ""
        for character in text {
            if result.utf8.count + character.utf8.count > bytes { break }
            result.append(character)
        }
        return result
    }

    /// The wall clock now, in nanoseconds since 1970.
    static func now() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }
}

/// The latest failed requests of one app on one event loop: a fixed-size ring, touched only on its loop. Recording
/// happens only for 5xx responses, so its cost is off the path of requests that succeed.
struct FailedRequests {
    let capacity: Int
    private var entries: [FailedRequest] = []
    /// Where the next entry goes once the ring is full.
    private var next = 0

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// Keeps `request` as the newest entry, overwriting the oldest once full.
    mutating func record(_ request: FailedRequest) {
        guard capacity > 0 else { return }
        if entries.count < capacity {
            entries.append(request)
        } else {
            entries[next] = request
        }
        next = next + 1 == capacity ? 0 : next + 1
    }

    /// The entries that ended after `after` (nanoseconds since 1970), oldest first.
    func since(_ after: Int64) -> [FailedRequest] {
        entries.filter { $0.timeNs > after }.sorted { $0.timeNs < $1.timeNs }
    }
}
