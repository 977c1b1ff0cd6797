import SlipwayCore

#if canImport(Glibc)
import Glibc
#endif

/// One request of the access log, written as a JSON object with stable keys in a fixed order:
///
/// `{"time":"2026-12-06T18:30:01.234Z","app":"shop","version":"2.0.0","instance":"shop-3","method":"GET",
/// "path":"/cart","status":200,"durationMs":1.532,"bytes":512,"requestId":"…","traceId":"…"}`
///
/// `version` and `instance` are null for a request no instance could take; `traceId` is null without a valid W3C
/// `traceparent`. The path is kept without its query, as everywhere Slipway records requests.
struct AccessLogLine {
    var timeNs: Int64
    var app: String
    var version: String?
    var instance: String?
    var method: String
    var target: String
    var status: Int
    var durationNs: UInt64
    var bytes: Int
    var requestID: String
    var traceparent: String?

    /// Appends the line and its newline to `buffer`.
    func write(into buffer: inout [UInt8]) {
        buffer.append(contentsOf: #"{"time":""#.utf8)
        Self.timestamp(timeNs, into: &buffer)
        buffer.append(contentsOf: #"","app":"#.utf8)
        Self.string(app, into: &buffer)
        buffer.append(contentsOf: #","version":"#.utf8)
        Self.string(version, into: &buffer)
        buffer.append(contentsOf: #","instance":"#.utf8)
        Self.string(instance, into: &buffer)
        buffer.append(contentsOf: #","method":"#.utf8)
        Self.string(method, into: &buffer)
        buffer.append(contentsOf: #","path":"#.utf8)
        Self.string(FailedRequest.path(of: target), into: &buffer)
        buffer.append(contentsOf: #","status":"#.utf8)
        buffer.append(contentsOf: String(status).utf8)
        buffer.append(contentsOf: #","durationMs":"#.utf8)
        let micros = durationNs / 1_000
        buffer.append(contentsOf: String(micros / 1_000).utf8)
        buffer.append(UInt8(ascii: "."))
        let fraction = micros % 1_000
        if fraction < 100 { buffer.append(UInt8(ascii: "0")) }
        if fraction < 10 { buffer.append(UInt8(ascii: "0")) }
        buffer.append(contentsOf: String(fraction).utf8)
        buffer.append(contentsOf: #","bytes":"#.utf8)
        buffer.append(contentsOf: String(bytes).utf8)
        buffer.append(contentsOf: #","requestId":"#.utf8)
        Self.string(requestID, into: &buffer)
        buffer.append(contentsOf: #","traceId":"#.utf8)
        Self.string(traceparent.flatMap(Self.traceID), into: &buffer)
        buffer.append(contentsOf: "}\n".utf8)
    }

    /// The trace id of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`); nil when it is not one, or its trace
    /// id is all zeros.
    static func traceID(_ traceparent: String) -> String? {
        let bytes = Array(traceparent.utf8)
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"),
            bytes[52] == UInt8(ascii: "-"), bytes[0...1] != [UInt8(ascii: "f"), UInt8(ascii: "f")]
        else { return nil }
        let id = bytes[3..<35]
        func isHex(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
        }
        guard id.allSatisfy(isHex), bytes[36..<52].allSatisfy(isHex), id.contains(where: { $0 != UInt8(ascii: "0") })
        else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    /// `text` as a JSON string (null for nil), escaped.
    static func string(_ text: String?, into buffer: inout [UInt8]) {
        guard let text else {
            buffer.append(contentsOf: "null".utf8)
            return
        }
        buffer.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): buffer.append(contentsOf: #"\\"#.utf8)
            case 0x0A: buffer.append(contentsOf: #"\n"#.utf8)
            case 0x0D: buffer.append(contentsOf: #"\r"#.utf8)
            case 0x09: buffer.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20, 0x7F:
                let hex = Array("0123456789abcdef".utf8)
                buffer.append(contentsOf: #"\u00"#.utf8)
                buffer.append(hex[Int(byte >> 4)])
                buffer.append(hex[Int(byte & 0x0F)])
            default: buffer.append(byte)
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    /// `2026-12-06T18:30:01.234Z` for `nanoseconds` since 1970.
    static func timestamp(_ nanoseconds: Int64, into buffer: inout [UInt8]) {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func digits(_ value: Int32, _ count: Int) {
            var text = Array(String(value).utf8)
            while text.count < count { text.insert(UInt8(ascii: "0"), at: 0) }
            buffer.append(contentsOf: text)
        }
        digits(parts.tm_year + 1900, 4)
        buffer.append(UInt8(ascii: "-"))
        digits(parts.tm_mon + 1, 2)
        buffer.append(UInt8(ascii: "-"))
        digits(parts.tm_mday, 2)
        buffer.append(UInt8(ascii: "T"))
        digits(parts.tm_hour, 2)
        buffer.append(UInt8(ascii: ":"))
        digits(parts.tm_min, 2)
        buffer.append(UInt8(ascii: ":"))
        digits(parts.tm_sec, 2)
        buffer.append(UInt8(ascii: "."))
        digits(Int32((nanoseconds / 1_000_000) % 1_000), 3)
        buffer.append(UInt8(ascii: "Z"))
    }
}
