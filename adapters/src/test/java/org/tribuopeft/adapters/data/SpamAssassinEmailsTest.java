package org.tribuopeft.adapters.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** What a classifier reads of a raw email: the subject and the body's words, not routing headers or markup. */
class SpamAssassinEmailsTest {
    @Test
    void textKeepsSubjectAndBodyAndDropsHeadersMarkupAndMimePartHeaders() {
        String raw = "From someone@example.com  Thu Aug 22 13:17:22 2002\r\n"
                + "Received: from localhost\r\n\tby example\r\n"
                + "Subject: Life Insurance - Why Pay More?\r\n"
                + "Content-Type: multipart/alternative; boundary=\"XX\"\r\n"
                + "\r\n"
                + "--XX\r\n"
                + "Content-Type: text/html; charset=\"iso-8859-1\"\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n"
                + "\r\n"
                + "<html><body><p>Save <b>big</b> to=\r\nday!</p>\r\n\r\n</body></html>\r\n"
                + "--XX--\r\n";
        assertEquals("Life Insurance - Why Pay More?. Save big today!", SpamAssassinEmails.textOf(raw));
    }

    @Test
    void anEmailWithoutSubjectOrBodyKeepsWhatItHas() {
        assertEquals("", SpamAssassinEmails.textOf("From: a\nTo: b"));
        assertEquals("hello there", SpamAssassinEmails.textOf("From: a\n\nhello\n  there\n"));
    }
}
