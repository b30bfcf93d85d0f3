using System.Buffers.Binary;
using System.Buffers.Text;

namespace SliceApi.Features.Users;

/// <summary>
/// The opaque cursor of <c>GET /api/v1/users</c>, whose pages are ordered newest first by (createdAt, id): base64url (RFC 4648 section 5) of the
/// last item's createdAt as UTC ticks (int64, big-endian) followed by its id in RFC 9562 byte order.
/// A list continues strictly after that position (keyset paging), so its cost does not grow with depth.
/// </summary>
internal static class UserListCursor
{
    private const int Length = 8 + 16;

    /// <summary>The length of every cursor's text, in characters (base64url of its 24 bytes).</summary>
    public const int TextLength = 32;

    /// <summary>Encodes a position: 32 characters.</summary>
    public static string Encode(DateTimeOffset createdAt, Guid id)
    {
        Span<byte> bytes = stackalloc byte[Length];
        BinaryPrimitives.WriteInt64BigEndian(bytes, createdAt.UtcTicks);
        id.TryWriteBytes(bytes[8..], bigEndian: true, out _);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Decodes a cursor; false when <paramref name="text"/> is not one.</summary>
    public static bool TryDecode(string text, out (DateTimeOffset CreatedAt, Guid Id) position)
    {
        position = default;
        Span<byte> bytes = stackalloc byte[Length];
        if (text.Length != Base64Url.GetEncodedLength(Length)
            || !Base64Url.TryDecodeFromChars(text, bytes, out var written) || written != Length)
        {
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        position = (new DateTimeOffset(ticks, TimeSpan.Zero), new Guid(bytes[8..], bigEndian: true));
        return true;
    }
}
