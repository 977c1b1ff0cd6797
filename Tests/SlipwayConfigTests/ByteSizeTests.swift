import SlipwayConfig
import Testing

@Suite("Byte sizes")
struct ByteSizeTests {
    @Test(arguments: [
        ("4096", 4096),
        ("512KiB", 512 * 1024),
        ("10MiB", 10 * 1024 * 1024),
        ("1GiB", 1 << 30),
        ("1MB", 1_000_000),
        ("2kB", 2000),
        ("2KB", 2000),
        ("3GB", 3_000_000_000),
        ("100B", 100),
        ("1.5KiB", 1536),
        ("1.5MB", 1_500_000),
    ])
    func parses(text: String, bytes: Int) {
        #expect(ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["", "MiB", "-1KiB", "1 MiB", "1mib", "1.3B", "0.1KiB", "10XB", "1e3"])
    func rejects(text: String) {
        #expect(ByteSize.parse(text) == nil)
    }

    @Test func formatsWithTheLargestExactUnit() {
        #expect(ByteSize.format(10 << 20) == "10MiB")
        #expect(ByteSize.format(4096) == "4KiB")
        #expect(ByteSize.format(1_000_000) == "1MB")
        #expect(ByteSize.format(4097) == "4097")
        #expect(ByteSize.format(0) == "0")
    }

    @Test func formatAndParseRoundTrip() {
        for bytes in [0, 1, 1000, 1024, 4097, 1_536, 10 << 20, 1 << 30, 3_000_000_000, 5 << 40] {
            #expect(ByteSize.parse(ByteSize.format(bytes)) == bytes)
        }
    }
}
