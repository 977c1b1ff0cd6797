import Foundation
import HummingbirdTesting

extension TestResponse {
    /// The body as UTF-8 text.
    var text: String {
        String(decoding: body.readableBytesView, as: UTF8.self)
    }

    /// The body decoded from JSON.
    func decoded<Value: Decodable>(_ type: Value.Type) throws -> Value {
        try JSONDecoder().decode(type, from: Data(body.readableBytesView))
    }
}
