import SlipwayConfig
import Testing

@Suite("host:port addresses")
struct HostPortTests {
    @Test(arguments: [
        ("127.0.0.1:8080", HostPort(host: "127.0.0.1", port: 8080)),
        ("localhost:80", HostPort(host: "localhost", port: 80)),
        ("[::1]:8080", HostPort(host: "::1", port: 8080)),
        ("0.0.0.0:1", HostPort(host: "0.0.0.0", port: 1)),
        ("my-host.internal:65535", HostPort(host: "my-host.internal", port: 65535)),
        ("127.0.0.1:0", HostPort(host: "127.0.0.1", port: 0)),
    ])
    func parses(text: String, address: HostPort) {
        #expect(HostPort.parse(text) == address)
        #expect(HostPort.parse(text)?.description == text)
    }

    @Test(arguments: [
        "", "localhost", "8080", ":8080", "localhost:", "localhost:65536", "localhost:http",
        "::1:8080", "[::1]", "[::1]8080", "[nothex]:80", "bad host:80", "host:+80", "host:080808",
    ])
    func rejects(text: String) {
        #expect(HostPort.parse(text) == nil)
    }

    @Test func ipv6DescriptionUsesBrackets() {
        #expect(HostPort(host: "::1", port: 9000).description == "[::1]:9000")
        #expect(HostPort(host: "example.org", port: 443).description == "example.org:443")
    }
}
