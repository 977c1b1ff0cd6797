import NIOCore
import SlipwayHTTP1

/// Parses `text` as one request head with default limits.
func parseHead(
    _ text: String,
    maxRequestLineBytes: Int = 8 * 1024,
    maxHeadBytes: Int = 32 * 1024
) -> RequestHeadParser.Outcome {
    var parser = RequestHeadParser(maxRequestLineBytes: maxRequestLineBytes, maxHeadBytes: maxHeadBytes)
    var buffer = ByteBuffer(string: text)
    return parser.parse(&buffer)
}

extension RequestHeadParser.Outcome {
    /// The head, when one was parsed.
    var head: RequestHead? {
        if case .head(let head) = self { return head }
        return nil
    }

    /// The error, when the head was refused.
    var error: HeadError? {
        if case .invalid(let error) = self { return error }
        return nil
    }
}

extension RequestHead {
    /// Every field as (name, value) text.
    var fieldTexts: [(String, String)] {
        fields.map { (text($0.name), text($0.value)) }
    }
}
