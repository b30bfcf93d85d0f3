using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;

namespace SliceApi.Features.Tasks;

/// <summary>The field a task list is ordered by; <c>id</c> always breaks ties in the same direction.</summary>
internal enum TaskSortField
{
    CreatedAt,
    DueAt,
    Title,
}

/// <summary>
/// A task list order as the <c>sort</c> query parameter names it: <c>createdAt</c>, <c>dueAt</c> or <c>title</c>,
/// ascending, or descending with a leading <c>-</c> (the JSON:API convention), e.g. <c>-createdAt</c>.
/// </summary>
internal readonly record struct TaskSort(TaskSortField Field, bool Descending)
{
    /// <summary>Newest first, the order when <c>sort</c> is absent.</summary>
    public static readonly TaskSort Default = new(TaskSortField.CreatedAt, Descending: true);

    /// <summary>Every value <c>sort</c> accepts, in the order the document lists them.</summary>
    public static readonly string[] Names = ["-createdAt", "createdAt", "dueAt", "-dueAt", "title", "-title"];

    /// <summary>The <c>sort</c> value of this order.</summary>
    public string Name => (Descending ? "-" : "") + Field switch
    {
        TaskSortField.CreatedAt => "createdAt",
        TaskSortField.DueAt => "dueAt",
        _ => "title",
    };

    /// <summary>Parses a <c>sort</c> value (case-sensitive, like every parameter name); null when it is not one.</summary>
    public static TaskSort? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        var descending = text[0] == '-';
        TaskSortField? field = (descending ? text[1..] : text) switch
        {
            "createdAt" => TaskSortField.CreatedAt,
            "dueAt" => TaskSortField.DueAt,
            "title" => TaskSortField.Title,
            _ => null,
        };
        return field is { } f ? new TaskSort(f, descending) : null;
    }
}

/// <summary>
/// The opaque <c>cursor</c> of task lists: the position of the last item of a page in the list's order, so the
/// next page continues strictly after it (keyset paging: no page is skipped or repeated when tasks are added or
/// removed between requests, and a deep page costs what the first one does).
/// </summary>
/// <remarks>
/// Wire form: base64url (RFC 4648 section 5) of <c>[1 byte format = 1][1 byte sort][16 bytes id, RFC 9562 order]</c>
/// followed by the sort key: createdAt as UTC ticks (int64 big-endian); dueAt likewise, or nothing for a task
/// without a deadline; title as UTF-8. The sort is inside, so a cursor used with another <c>sort</c> is refused.
/// </remarks>
internal sealed record TaskListCursor(TaskSort Sort, Guid Id, DateTimeOffset? Time, string? Title)
{
    private const byte Format = 1;
    private const int HeaderLength = 2 + 16;

    /// <summary>The longest cursor text read, in characters (a title key of 200 characters fits with room).</summary>
    public const int MaxTextLength = 2048;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The position of <paramref name="task"/> in a list ordered by <paramref name="sort"/>.</summary>
    public static TaskListCursor After(TaskResponse task, TaskSort sort) => sort.Field switch
    {
        TaskSortField.CreatedAt => new(sort, task.Id, task.CreatedAt, null),
        TaskSortField.DueAt => new(sort, task.Id, task.DueAt, null),
        _ => new(sort, task.Id, null, task.Title),
    };

    /// <summary>The base64url text of this position (at most about 1,100 characters, for a 200-character title).</summary>
    public string Encode()
    {
        var key = Title is not null ? StrictUtf8.GetBytes(Title) : Time is { } time ? Ticks(time) : [];
        var bytes = new byte[HeaderLength + key.Length];
        bytes[0] = Format;
        bytes[1] = (byte)(((int)Sort.Field << 1) | (Sort.Descending ? 1 : 0));
        Id.TryWriteBytes(bytes.AsSpan(2, 16), bigEndian: true, out _);
        key.CopyTo(bytes, HeaderLength);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>Decodes a cursor; false when <paramref name="text"/> was not made by <see cref="Encode"/>.</summary>
    public static bool TryDecode(string? text, out TaskListCursor cursor)
    {
        cursor = null!;
        byte[] bytes;
        try
        {
            bytes = text is { Length: > 0 and <= MaxTextLength } ? Base64Url.DecodeFromChars(text) : [];
        }
        catch (FormatException)
        {
            return false;
        }

        if (bytes.Length < HeaderLength || bytes[0] != Format || bytes[1] > (((int)TaskSortField.Title << 1) | 1))
        {
            return false;
        }

        var sort = new TaskSort((TaskSortField)(bytes[1] >> 1), (bytes[1] & 1) == 1);
        var id = new Guid(bytes.AsSpan(2, 16), bigEndian: true);
        var key = bytes.AsSpan(HeaderLength);
        switch (sort.Field)
        {
            case TaskSortField.Title:
                try
                {
                    cursor = new(sort, id, null, StrictUtf8.GetString(key));
                    return true;
                }
                catch (ArgumentException)
                {
                    return false;
                }

            case TaskSortField.DueAt when key.IsEmpty:
                cursor = new(sort, id, null, null);
                return true;

            default:
                if (key.Length != 8)
                {
                    return false;
                }

                var ticks = BinaryPrimitives.ReadInt64BigEndian(key);
                if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
                {
                    return false;
                }

                cursor = new(sort, id, new DateTimeOffset(ticks, TimeSpan.Zero), null);
                return true;
        }
    }

    private static byte[] Ticks(DateTimeOffset time)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, time.UtcTicks);
        return bytes;
    }
}
