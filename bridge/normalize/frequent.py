"""Frequent Vietnamese syllables: the tie-breaker between two legacy readings of one text.

Two encodings can both turn a text into well-formed syllables (TCVN3 text read as VISCII gives
"Lế Thỡ" where TCVN3 gives "Lê Thị"); the reading with more of the language's everyday
syllables is the one that was typed. The list holds the commonest syllables of Vietnamese
prose and administrative writing and the commonest family and given names, lower case, NFC,
tone on the first vowel of open oa/oe/uy ("hòa", "thủy").
"""

from __future__ import annotations

_WORDS = """
    và của các có là được trong cho với về này những một không người đã để khi đến từ theo
    như trên tại thì sẽ đó nhiều năm ngày tháng quý số văn bản việc công tác thực hiện kế
    hoạch báo cáo ban hành quyết định nghị thông tư chỉ thị hướng dẫn giấy mời tờ trình
    dân nhân ủy hội đồng tỉnh huyện xã phường quận thành phố thị trấn sở phòng bộ cục chi
    nhà nước chính phủ quốc gia trung ương địa phương cơ quan đơn vị tổ chức cán công chức
    viên lao động thương binh tài nguyên môi trường giáo dục đào tạo y tế văn hóa thể thao
    du lịch nông nghiệp phát triển thôn mới kinh xây dựng giao vận khoa học kỹ thuật nội vụ
    tư pháp an ninh quốc phòng điện tử chuyển đổi quản lý hệ thống dịch vụ kiểm tra giám sát
    đánh giá tình hình kết quả nhiệm vụ năm trọng tâm triển khai tăng cường đẩy mạnh bảo đảm
    phối hợp tham mưu đề xuất phê duyệt dự án toán kinh phí ngân sách thu chi đất đai
    rừng biển sông nước lũ bão phòng chống thiên tai cứu nạn hỏa cháy chữa pháp luật phổ
    biến tuyên truyền thi đua khen thưởng kỷ luật tuyển dụng nâng lương bồi dưỡng họp dự
    lớp sơ tổng kết chương trình đợt cuối đầu sáu tháng tuần lễ kỳ tiếp nhận gửi lưu trữ hồ
    sơ mật khẩn tốc thường an toàn thực phẩm bệnh dịch tiêm chủng vắc xin sức khỏe trẻ em
    phụ nữ đoàn thanh niên cựu chiến binh mặt trận tổ quốc liên đoàn bảo hiểm xã hội nghèo
    bền vững việc làm doanh nghiệp đầu tư hợp tác đối ngoại cải cách hành chính số hóa
    nguyễn trần lê phạm hoàng huỳnh phan vũ võ đặng bùi đỗ hồ ngô dương lý đinh trương
    mai đào cao lâm tô thị văn đức minh thanh hương hồng lan anh tuấn hùng dũng hải hà
    nam sơn quang trung hoa thu thủy hòa bình long phúc thắng cường quân huy hiếu ngọc yến
    linh trang phương dung nga hạnh thảo tâm tú khánh kim oanh vân loan hiền thành công
    chủ tịch phó giám đốc trưởng chánh văn phòng bí thư ủy viên thường trực kế toán
    cộng hòa chủ nghĩa việt độc lập tự do hạnh phúc ký thay mặt lệnh quyền nơi như trên
    """
FREQUENT_SYLLABLES = frozenset(_WORDS.split())
