/* credit_code.c - the GB 32100-2015 unified social credit code (统一社会信用代码):
 * 18 characters from a 31-character alphabet; the last is a check character
 * computed from the first 17 with weights 3^i mod 31. */
#include "model/entity.h"
#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
static const int weights[17] = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

static int value_of(char c)
{
	const char *p = c ? strchr(alphabet, c) : NULL;
	return p ? (int)(p - alphabet) : -1;
}

bool gz_credit_code_valid(const char *code)
{
	if (!code || strlen(code) != 18)
		return false;
	int sum = 0;
	for (int i = 0; i < 17; i++) {
		int v = value_of(code[i]);
		if (v < 0)
			return false;
		sum += v * weights[i];
	}
	int check = 31 - sum % 31;
	if (check == 31)
		check = 0;
	return code[17] == alphabet[check];
}

int gz_check_credit_code(const char *value, const char *field, struct gz_err *err)
{
	if (strlen(value) != 18)
		return gz_fail_field(err, GZ_E_VALIDATION, field,
		                     "a unified social credit code has 18 characters");
	if (!gz_credit_code_valid(value))
		return gz_fail_field(err, GZ_E_VALIDATION, field,
		                     "not a valid unified social credit code (check character "
		                     "or characters wrong)");
	return 0;
}
