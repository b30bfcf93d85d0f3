using System.Text.Json;

namespace SliceApi.Infrastructure.Json;

/// <summary>
/// The one rule for text PostgreSQL cannot store: the character U+0000 (NUL). PostgreSQL refuses it in <c>text</c>
/// ("the character with code zero cannot be stored", PostgreSQL manual, section 8.3 Character Types) and in
/// <c>jsonb</c> (<c>\u0000</c> "cannot be converted to text", section 8.14.1), so a string holding it would fail
/// deep in a write as a 500. Every string that arrives is checked once, before any endpoint uses it: each query
/// parameter (name and values) by <see cref="UseStorableTextCheck"/>, each string of a JSON request body, at any depth,
/// by <see cref="StorableStringConverter"/> while it binds. The answer is a 400 validation problem whose <c>errors</c>
/// names the parameter or member as the client sent it (<c>title</c>, <c>scopes[0]</c>).
/// </summary>
public static class StorableText
{
    /// <summary>What the client is told for a string holding U+0000.</summary>
    public const string Message = "The text contains the character U+0000 (NUL), which cannot be stored; remove it.";

    /// <summary>Whether <paramref name="text"/> can be stored in PostgreSQL <c>text</c> and <c>jsonb</c>; null can.</summary>
    public static bool IsStorable(string? text) => text is null || !text.Contains('\0', StringComparison.Ordinal);

    /// <summary>
    /// Refuses a request whose query parameter names or values hold U+0000 with a 400 problem naming each one (bodies:
    /// <see cref="StorableStringConverter"/>). Place after authentication and rate limiting, before the endpoints.
    /// </summary>
    public static IApplicationBuilder UseStorableTextCheck(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            if (UnstorableParameters(context.Request) is not { } errors)
            {
                await next(context);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new HttpValidationProblemDetails(errors)
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = "The request is invalid.",
                    Detail = $"{string.Join(", ", errors.Keys.Select(k => $"'{k}'"))}: {Message}",
                },
            });
        });

    private static Dictionary<string, string[]>? UnstorableParameters(HttpRequest request)
    {
        if (!request.QueryString.HasValue)
        {
            return null;
        }

        Dictionary<string, string[]>? errors = null;
        foreach (var (name, values) in request.Query)
        {
            if (!IsStorable(name) || values.Any(v => !IsStorable(v)))
            {
                (errors ??= new(StringComparer.Ordinal))[name] = [Message];
            }
        }

        return errors;
    }
}

/// <summary>
/// Reads every JSON string of a request body (at any depth) and refuses one holding U+0000 with a
/// <see cref="JsonException"/> whose inner <see cref="FormatException"/> carries <see cref="StorableText.Message"/>;
/// binding turns it into the 400 problem naming the member by its path (<c>title</c>, <c>scopes[0]</c>). Writes as usual.
/// Left out of the OpenAPI document's serializer settings: schema generators would drop <c>type: string</c> from
/// every string with a custom converter.
/// </summary>
internal sealed class StorableStringConverter : System.Text.Json.Serialization.JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        return StorableText.IsStorable(text) ? text : throw new JsonException(null, new FormatException(StorableText.Message));
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
