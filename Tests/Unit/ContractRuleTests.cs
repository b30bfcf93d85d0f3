using FluentValidation.TestHelper;
using SliceApi.Features.Users;
using SliceApi.Infrastructure.Json;

namespace SliceApi.Tests.Unit;

/// <summary>Rules of the wire contract that need no host: RFC 3339 date-times, account validation, user-list cursors.</summary>
public sealed class ContractRuleTests
{
    [Theory]
    [InlineData("2026-12-01T17:00:00Z", true)]
    [InlineData("2026-12-01t17:00:00.1234567+01:00", true)]
    [InlineData("2026-12-01T17:00:00", false)] // no offset: refused, not guessed (RFC 3339 section 5.6)
    [InlineData("2026-12-01 17:00:00Z", false)]
    [InlineData("2026-12-01", false)]
    [InlineData("2026-02-30T00:00:00Z", false)] // matches the pattern, not the calendar
    [InlineData("1764608400", false)]
    [InlineData(null, false)]
    public void Rfc3339_date_times_need_a_date_a_time_and_an_offset(string? text, bool valid)
    {
        Rfc3339DateTimeOffsetConverter.TryParse(text, out _).ShouldBe(valid);
    }

    [Fact]
    public void An_offset_is_kept_as_the_same_instant()
    {
        Rfc3339DateTimeOffsetConverter.TryParse("2026-12-01T18:00:00+01:00", out var value).ShouldBeTrue();

        value.UtcDateTime.ShouldBe(new DateTime(2026, 12, 1, 17, 0, 0, DateTimeKind.Utc));
    }

    [Theory]
    [InlineData("ada@example.com", "a long enough passphrase", "Ada", null)]
    [InlineData("not an email", "a long enough passphrase", "Ada", "email")]
    [InlineData("ada@example.com", "too short", "Ada", "password")]
    [InlineData("ada@example.com", " ADA@example.com ", "Ada", "password")] // the email as password (OWASP ASVS V2.1)
    [InlineData("ada@example.com", "a long enough passphrase", "  ", "displayName")]
    public void Registration_rules(string email, string password, string displayName, string? invalidMember)
    {
        var result = new RegisterUserValidator().TestValidate(new RegisterUserRequest { Email = email, Password = password, DisplayName = displayName });

        if (invalidMember is null)
        {
            result.ShouldNotHaveAnyValidationErrors();
        }
        else
        {
            result.ShouldHaveValidationErrorFor(invalidMember);
            result.Errors.Select(e => e.PropertyName).Distinct().ShouldBe([invalidMember]);
        }
    }

    [Fact]
    public void A_user_list_cursor_decodes_to_the_position_it_encodes_and_refuses_others()
    {
        var position = (CreatedAt: new DateTimeOffset(2026, 12, 4, 10, 11, 12, TimeSpan.Zero).AddTicks(7), Id: Guid.CreateVersion7());

        UserListCursor.TryDecode(UserListCursor.Encode(position.CreatedAt, position.Id), out var decoded).ShouldBeTrue();

        decoded.ShouldBe(position);
        UserListCursor.TryDecode("garbage!", out _).ShouldBeFalse();
        UserListCursor.TryDecode("", out _).ShouldBeFalse();
    }
}
