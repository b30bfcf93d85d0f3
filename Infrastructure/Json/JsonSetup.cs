using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace SliceApi.Infrastructure.Json;

/// <summary>The JSON contract shared by every endpoint.</summary>
internal static class JsonSetup
{
    /// <summary>
    /// camelCase members, enums as snake_case strings (integers refused), numbers only as JSON numbers
    /// (strings are refused, so generated clients see plain numbers), and date-times as RFC 3339
    /// with an explicit offset, written in UTC with <c>Z</c>. A member named twice in one object is refused (a 400 problem
    /// naming it): RFC 8259 section 4 leaves duplicates to the parser, and a proxy or validator that keeps the first would
    /// see another request than the API, which would keep the last.
    /// </summary>
    public static IServiceCollection AddApiJson(this IServiceCollection services) =>
        services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.AllowDuplicateProperties = false;
            options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
            options.SerializerOptions.Converters.Add(new Rfc3339DateTimeOffsetConverter());
            options.SerializerOptions.Converters.Add(new StorableStringConverter());
        });
}

/// <summary>
/// Reads only RFC 3339 <c>date-time</c> values (section 5.6: full date, time, and <c>Z</c> or a numeric
/// offset), so a deadline without an offset is refused instead of guessed; writes UTC with <c>Z</c>.
/// </summary>
internal sealed partial class Rfc3339DateTimeOffsetConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
        if (!TryParse(text, out var value))
        {
            throw new JsonException(null, new FormatException(FormatHint));
        }

        return value;
    }

    /// <summary>What a client is told when a date-time is not RFC 3339 with an offset.</summary>
    public const string FormatHint =
        "Expected an RFC 3339 date-time with an offset, e.g. \"2026-12-01T17:00:00Z\" or \"2026-12-01T18:00:00+01:00\".";

    /// <summary>Parses an RFC 3339 <c>date-time</c> (offset required); false for anything else, null included.</summary>
    public static bool TryParse(string? text, out DateTimeOffset value)
    {
        value = default;
        return text is not null && Rfc3339().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime);

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,7})?([Zz]|[+-]\d{2}:\d{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}

/// <summary>
/// A request body parsed before FastEndpoints binds it (the idempotency filter parses a keyed create's body to fingerprint
/// it): the binder takes that object instead of reading and parsing the body again, so each body is parsed once.
/// </summary>
internal static class ParsedRequestBody
{
    /// <summary>Hands <paramref name="body"/>, the body bound as the endpoint's request type, to the endpoint's binder.</summary>
    public static void Set(HttpContext http, object body) => http.Features.Set(new Parsed(body));

    /// <summary>
    /// FastEndpoints' request deserializer: a body already parsed as <c>type</c> is taken (once); anything else is read and
    /// parsed as FastEndpoints does by default, with <paramref name="options"/> (its serializer options). The look-up is a
    /// request feature, so a request without one allocates nothing for it.
    /// </summary>
    public static Func<HttpRequest, Type, JsonSerializerContext?, CancellationToken, ValueTask<object?>> Deserializer(JsonSerializerOptions options) =>
        (request, type, context, ct) =>
        {
            if (request.HttpContext.Features.Get<Parsed>() is { } parsed)
            {
                request.HttpContext.Features.Set<Parsed>(null);
                if (type.IsInstanceOfType(parsed.Body))
                {
                    return ValueTask.FromResult<object?>(parsed.Body);
                }
            }

            return request.ReadFromJsonAsync(type, context?.Options ?? options, ct);
        };

    private sealed record Parsed(object Body);
}
